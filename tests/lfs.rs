//! Large files: mappings at offsets past 2 GiB and 4 GiB of a sparse file and of an unreserved segment, read and written through memseg, so a 32-bit `off_t` (i686 glibc without `mmap64`/`posix_fallocate64`) cannot pass unnoticed.
//!
//! Every file here is sparse: it is sized with `ftruncate` and only the
//! pages under test are ever written, so the tests need a few pages of disk
//! or RAM, not 4 GiB. Each marker is different and the page at offset 0
//! holds its own marker, so an offset silently truncated to 32 bits (4 GiB
//! becomes 0) reads the wrong bytes instead of passing.
#![cfg(target_os = "linux")]

use memseg::{Mmap, MmapFile, ReadOnly, ReadWrite, ShmOptions};
use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;

const GIB: u64 = 1 << 30;
/// 4 GiB: the first offset a 32-bit `off_t` cannot express at all.
const FOUR_GIB: u64 = 4 * GIB;

fn page() -> u64 {
    memseg::raw::page_size() as u64
}

/// A sparse temporary file of `len` bytes, its name already removed.
fn sparse_file(tag: &str, len: u64) -> File {
    let path = std::env::temp_dir().join(format!("memseg-lfs-{}-{}", tag, std::process::id()));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .expect("create the sparse file");
    std::fs::remove_file(&path).unwrap();
    file.set_len(len).expect("size the sparse file");
    file
}

/// Writes a marker naming its own offset, and returns it.
fn put_marker(file: &File, offset: u64) -> Vec<u8> {
    let marker = format!("memseg marker at offset {:#x}!", offset).into_bytes();
    file.write_all_at(&marker, offset).unwrap();
    marker
}

#[test]
#[cfg_attr(miri, ignore)] // file mappings
fn a_page_past_4_gib_of_a_sparse_file_reads_what_was_written_there() {
    let p = page();
    let file = sparse_file("read", FOUR_GIB + 4 * p);
    let at_zero = put_marker(&file, 0);
    let past_2g = put_marker(&file, 2 * GIB + 8);
    let at_4g = put_marker(&file, FOUR_GIB);
    let odd = FOUR_GIB + p + 123;
    let at_odd = put_marker(&file, odd);

    // A page-aligned offset past 4 GiB, one page long.
    // SAFETY: the file is private to this test and nothing changes it while mapped.
    let map = unsafe {
        Mmap::<u8>::options()
            .offset(FOUR_GIB)
            .len(p as usize)
            .map(&file, ReadOnly)
            .unwrap()
    };
    assert_eq!(map.len(), p as usize);
    assert_eq!(&map.as_slice()[..at_4g.len()], &at_4g[..]);
    assert_ne!(&map.as_slice()[..at_zero.len()], &at_zero[..]);

    // An offset that is not page-aligned, past 4 GiB: memseg maps the page
    // below and points the view at the byte.
    // SAFETY: as above.
    let map = unsafe {
        Mmap::<u8>::options()
            .offset(odd)
            .len(at_odd.len())
            .map(&file, ReadOnly)
            .unwrap()
    };
    assert_eq!(map.as_slice(), &at_odd[..]);

    // Past 2 GiB (the sign bit of a 32-bit off_t), typed, not page-aligned.
    // SAFETY: as above.
    let map = unsafe {
        Mmap::<[u8; 16]>::options()
            .offset(2 * GIB + 8)
            .len(16)
            .map(&file, ReadOnly)
            .unwrap()
    };
    assert_eq!(&map.object()[..], &past_2g[..16]);

    // The rest of the file from 4 GiB: the default length is computed in
    // 64 bits too.
    // SAFETY: as above.
    let tail = unsafe {
        Mmap::<u8>::options()
            .offset(FOUR_GIB + 3 * p)
            .map(&file, ReadOnly)
            .unwrap()
    };
    assert_eq!(tail.len(), p as usize);
    assert!(tail.as_slice().iter().all(|&b| b == 0));
}

#[test]
#[cfg_attr(miri, ignore)] // file mappings
fn a_write_through_a_mapping_past_4_gib_lands_past_4_gib() {
    let p = page();
    let file = sparse_file("write", FOUR_GIB + 2 * p);
    let at_zero = put_marker(&file, 0);
    let mut map = Mmap::<u8>::options()
        .offset(FOUR_GIB + p)
        .len(p as usize)
        .map_shared(&file, ReadWrite)
        .unwrap();
    map.write_bytes(100, b"written past 4 GiB").unwrap();
    map.msync().unwrap();
    drop(map);

    let mut buf = [0u8; 18];
    file.read_exact_at(&mut buf, FOUR_GIB + p + 100).unwrap();
    assert_eq!(&buf, b"written past 4 GiB");
    let mut head = vec![0u8; at_zero.len()];
    file.read_exact_at(&mut head, 0).unwrap();
    assert_eq!(head, at_zero, "the page at offset 0 was written instead");
    let mut low = [0u8; 18];
    file.read_exact_at(&mut low, p + 100).unwrap();
    assert_eq!(low, [0u8; 18], "the write landed at offset 4 GiB mod 2^32");
}

#[test]
#[cfg_attr(miri, ignore)] // file mappings
fn ranges_past_the_end_of_a_large_file_are_refused_with_the_full_offset() {
    let p = page();
    let file = sparse_file("refuse", FOUR_GIB + p);
    // 8 GiB is 0 mod 2^32: a truncated offset would map the first page.
    // SAFETY: nothing is mapped (the call fails); the file is private.
    let err = unsafe {
        Mmap::<u8>::options()
            .offset(2 * FOUR_GIB)
            .len(1)
            .map(&file, ReadOnly)
    }
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains(&(2 * FOUR_GIB).to_string()),
        "{}",
        err
    );
    // One byte past the end, at 4 GiB + a page.
    let err = Mmap::<u8>::options()
        .offset(FOUR_GIB)
        .len(p as usize + 1)
        .map_shared(&file, ReadOnly)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{}", err);
}

#[test]
#[cfg_attr(miri, ignore)] // file mappings
fn a_whole_file_past_4_gib_maps_on_64_bit_and_is_refused_on_32_bit() {
    let p = page();
    let file = sparse_file("whole", FOUR_GIB + p);
    let at_4g = put_marker(&file, FOUR_GIB);
    // SAFETY: the file is private to this test and nothing changes it while mapped.
    let result = unsafe { MmapFile::create(&file, ReadOnly) };
    if cfg!(target_pointer_width = "64") {
        let map = result.unwrap();
        assert_eq!(map.size() as u64, FOUR_GIB + p);
        let at = FOUR_GIB as usize;
        assert_eq!(&map.buffer()[at..at + at_4g.len()], &at_4g[..]);
    } else {
        // 4 GiB + a page does not fit a 32-bit address space: refused
        // before mmap, never mapped with a length truncated to 32 bits.
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{}", err);
        assert!(err.to_string().contains("does not fit"), "{}", err);
    }
}

#[test]
#[cfg_attr(miri, ignore)] // shm_open
fn a_segment_past_4_gib_maps_at_its_end() {
    // Sized with a plain ftruncate (not Shm::set_len, which would reserve
    // 4 GiB of RAM): tmpfs keeps it sparse.
    let p = page();
    let name = format!("memseg-lfs-{}", std::process::id());
    let file = ShmOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&name)
        .unwrap();
    memseg::shm_unlink(&name).unwrap();
    file.set_len(FOUR_GIB + p).unwrap();
    put_marker(&file, 0);
    let at_4g = put_marker(&file, FOUR_GIB);
    let map = Mmap::<u8>::options()
        .offset(FOUR_GIB)
        .map_shared(&file, ReadOnly)
        .unwrap();
    assert_eq!(map.len(), p as usize);
    let mut buf = vec![0u8; at_4g.len()];
    map.read_bytes(0, &mut buf).unwrap();
    assert_eq!(buf, at_4g);
}

#[test]
#[cfg_attr(miri, ignore)] // posix_fallocate
fn posix_fallocate_past_4_gib_grows_the_file_there() {
    let p = page();
    let file = sparse_file("fallocate", FOUR_GIB);
    match memseg::raw::posix_fallocate(std::os::unix::io::AsFd::as_fd(&file), FOUR_GIB + p, p) {
        Ok(()) => assert_eq!(file.metadata().unwrap().len(), FOUR_GIB + 2 * p),
        Err(e) if e.raw_os_error() == Some(memseg::sys::EOPNOTSUPP) => {
            eprintln!(
                "skipped: the temp dir's file system cannot allocate ({})",
                e
            )
        }
        Err(e) => panic!("posix_fallocate past 4 GiB: {}", e),
    }
}
