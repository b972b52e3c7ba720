//! Typed mappings (`Mmap<T, P>`, `MmapOptions`), whole-file mappings
//! (`MmapFile`) and the safe shared view (`SharedMmap`): the seed's own
//! tests, sharing between real processes, every rejected input with its
//! exact error, and leak checks.

mod common;

use common::*;
use memseg::{Mmap, MmapFile, MsyncFlags, ReadOnly, ReadWrite, SharedMmap, Shm};
use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

// ---- The C++ library's own tests, translated ------------------------------

/// Seed test 1: write "Hello world!" through a read-write mapping of a
/// segment, msync, reopen the segment read-only and read it back.
#[test]
fn seed_hello_world_through_segment() {
    let shm = Shm::create_unique("memseg-test-hello-", 1024).unwrap();
    {
        // SAFETY: the segment has a fresh random name; only this test uses it.
        let mut mapped = unsafe { Mmap::<[u8; 12]>::create(&shm, ReadWrite).unwrap() };
        assert_eq!(mapped.len(), 1024);
        *mapped.object_mut() = *b"Hello world!";
        mapped.msync().unwrap();
    }
    let ro = memseg::ShmOptions::new()
        .read(true)
        .open(shm.name().as_str())
        .unwrap();
    // SAFETY: as above; nobody writes the segment any more.
    let mapped = unsafe { Mmap::<[u8; 12]>::create(&ro, ReadOnly).unwrap() };
    assert_eq!(mapped.object(), b"Hello world!");
}

/// Seed test 2: a read-write shared mapping of a read-only descriptor fails
/// with EACCES (from the kernel, with the errno intact).
#[test]
fn seed_read_write_mapping_of_read_only_fd_is_eacces() {
    let shm = Shm::create_unique("memseg-test-eacces-", 4096).unwrap();
    let ro = memseg::ShmOptions::new()
        .read(true)
        .open(shm.name().as_str())
        .unwrap();
    // SAFETY: the mapping is never created.
    let err = unsafe { Mmap::<u8>::create(&ro, ReadWrite) }.unwrap_err();
    assert_eq!(err.raw_os_error(), Some(memseg::sys::EACCES));
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    // The same through the safe route.
    let err = SharedMmap::<u8>::create(&ro, ReadWrite).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(memseg::sys::EACCES));
}

/// Seed test 3: a 12-byte file maps whole, size() == 12.
#[test]
fn seed_mmapfile_maps_whole_12_byte_file() {
    let f = temp_file(b"Hello world!");
    // SAFETY: the file is private to this test.
    let map = unsafe { MmapFile::create(&f, ReadOnly).unwrap() };
    assert_eq!(map.size(), 12);
    assert_eq!(map.buffer(), b"Hello world!");
    map.msync().unwrap();
}

// ---- MmapFile ---------------------------------------------------------------

/// An empty file gives an empty buffer, and no mapping is made for it:
/// nothing in `/proc/self/maps` carries the file's inode (allocators' and
/// other tests' mappings do not, so the check needs no child process and
/// holds under AddressSanitizer).
#[test]
fn mmapfile_empty_file_is_empty_buffer_without_mmap() {
    use std::os::unix::fs::MetadataExt;
    let f = temp_file(b"");
    let ino = f.metadata().unwrap().ino();
    // SAFETY: the file is private to this test.
    let map = unsafe { MmapFile::create(&f, ReadWrite).unwrap() };
    assert_eq!(map.size(), 0);
    assert!(map.buffer().is_empty());
    map.msync().unwrap();
    // Miri maps no files, and its /proc/self/maps is the interpreter's.
    #[cfg(not(miri))]
    {
        assert_eq!(mappings_of_inode(ino), 0, "an empty file was mapped");
        // The control: a one-byte file is mapped, and seen by the same check.
        let g = temp_file(b"x");
        // SAFETY: as above.
        let one = unsafe { MmapFile::create(&g, ReadOnly).unwrap() };
        assert_eq!(mappings_of_inode(g.metadata().unwrap().ino()), 1);
        drop(one);
    }
    #[cfg(miri)]
    let _ = ino;
}

#[test]
fn mmapfile_writes_reach_the_file() {
    let mut f = temp_file(&[0u8; 5000]);
    {
        // SAFETY: the file is private to this test and not resized while mapped.
        let mut map = unsafe { MmapFile::create(&f, ReadWrite).unwrap() };
        map.buffer_mut()[4999] = 0xAB;
        map.buffer_mut()[..5].copy_from_slice(b"hello");
        map.msync_range(4096, 904, MsyncFlags::SYNC).unwrap();
        map.msync().unwrap();
    }
    let mut back = Vec::new();
    f.seek(SeekFrom::Start(0)).unwrap();
    f.read_to_end(&mut back).unwrap();
    assert_eq!(&back[..5], b"hello");
    assert_eq!(back[4999], 0xAB);
}

#[test]
fn mmapfile_of_a_device_needs_a_length() {
    let f = File::open("/dev/zero").unwrap();
    // SAFETY: the mapping is never created.
    let err = unsafe { MmapFile::create(&f, ReadOnly) }.unwrap_err();
    assert_invalid(err, "not a regular file");
}

// ---- Mmap: defaults and options -----------------------------------------

#[test]
fn create_maps_the_whole_file_by_default() {
    let f = temp_file(&[3u8; 10000]);
    // SAFETY: private file.
    let map = unsafe { Mmap::<u16>::create(&f, ReadOnly).unwrap() };
    assert_eq!(map.len(), 10000);
    assert_eq!(map.as_slice().len(), 5000);
    assert!(map.as_slice().iter().all(|&v| v == 0x0303));
}

#[test]
fn any_offset_is_accepted_and_the_view_starts_there() {
    let data: Vec<u8> = (0..20000u32).map(|i| (i % 251) as u8).collect();
    let f = temp_file(&data);
    for &offset in &[0u64, 1, 4095, 4096, 4097, 12345, 19999] {
        // SAFETY: private file.
        let map = unsafe {
            Mmap::<u8>::options()
                .offset(offset)
                .map(&f, ReadOnly)
                .unwrap()
        };
        assert_eq!(map.len() as u64, 20000 - offset);
        assert_eq!(map.as_slice(), &data[offset as usize..]);
    }
    // With an explicit length too.
    // SAFETY: private file.
    let map = unsafe {
        Mmap::<u8>::options()
            .offset(5000)
            .len(3)
            .map(&f, ReadOnly)
            .unwrap()
    };
    assert_eq!(map.as_slice(), &data[5000..5003]);
}

#[test]
fn offset_must_suit_the_alignment_of_t() {
    let f = temp_file(&[0u8; 8192]);
    // u64 is 8-aligned on 64-bit targets but only 4-aligned on i686.
    let align = std::mem::align_of::<u64>() as u64;
    // SAFETY: never created.
    let err = unsafe { Mmap::<u64>::options().offset(align / 2).map(&f, ReadOnly) }.unwrap_err();
    assert_invalid(err, "alignment");
    // SAFETY: private file.
    let ok = unsafe { Mmap::<u64>::options().offset(align).map(&f, ReadOnly) }.unwrap();
    assert_eq!(ok.len() as u64, 8192 - align);
}

#[test]
fn length_smaller_than_t_is_rejected() {
    let f = temp_file(&[0u8; 7]);
    // SAFETY: never created.
    let err = unsafe { Mmap::<u64>::create(&f, ReadOnly) }.unwrap_err();
    assert_invalid(err, "smaller than the mapped type");
    let err = Mmap::<[u8; 100]>::anonymous(99, ReadWrite).unwrap_err();
    assert_invalid(err, "smaller than the mapped type");
}

#[test]
fn zero_length_is_rejected() {
    let err = Mmap::<u8>::anonymous(0, ReadWrite).unwrap_err();
    assert_invalid(err, "smaller than the mapped type");
    let f = temp_file(&[1u8; 10]);
    // SAFETY: never created.
    let err = unsafe { Mmap::<u8>::options().offset(10).map(&f, ReadOnly) }.unwrap_err();
    assert_invalid(err, "smaller than the mapped type");
}

#[test]
fn offset_past_end_of_file_is_rejected() {
    let f = temp_file(&[1u8; 100]);
    // SAFETY: never created.
    let err = unsafe { Mmap::<u8>::options().offset(101).map(&f, ReadOnly) }.unwrap_err();
    assert_invalid(err, "past the end of the file");
    // SAFETY: never created.
    let err = unsafe { Mmap::<u8>::options().offset(u64::MAX).map(&f, ReadOnly) }.unwrap_err();
    assert_invalid(err, "past the end of the file");
}

#[test]
fn offset_plus_length_past_end_of_file_is_rejected() {
    let f = temp_file(&[1u8; 100]);
    // SAFETY: never created.
    let err = unsafe { Mmap::<u8>::options().offset(50).len(51).map(&f, ReadOnly) }.unwrap_err();
    assert_invalid(err, "past the end of the file");
    // SAFETY: never created.
    let err = unsafe { Mmap::<u8>::options().len(101).map(&f, ReadOnly) }.unwrap_err();
    assert_invalid(err, "past the end of the file");
    // Overflowing sums are errors, not wraps.
    // SAFETY: never created.
    let err = unsafe {
        Mmap::<u8>::options()
            .offset(99)
            .len(usize::MAX)
            .map(&f, ReadOnly)
    }
    .unwrap_err();
    assert_invalid(err, "past the end of the file");
    // Exactly to the end is fine.
    // SAFETY: private file.
    let map = unsafe { Mmap::<u8>::options().offset(50).len(50).map(&f, ReadOnly) }.unwrap();
    assert_eq!(map.len(), 50);
}

#[test]
fn huge_anonymous_length_overflow_is_an_error() {
    let err = Mmap::<u8>::anonymous(usize::MAX, ReadWrite).unwrap_err();
    // Either memseg's overflow check or the kernel's ENOMEM: never a wrap.
    assert!(
        err.kind() == ErrorKind::InvalidInput || err.raw_os_error() == Some(memseg::sys::ENOMEM),
        "{:?}",
        err
    );
}

#[test]
fn zero_sized_types_are_rejected() {
    let err = Mmap::<[u8; 0]>::anonymous(4096, ReadWrite).unwrap_err();
    assert_invalid(err, "zero-sized");
}

#[test]
fn anonymous_mappings_have_no_offset_and_need_a_length() {
    let err = Mmap::<u8>::options()
        .offset(4096)
        .len(4096)
        .map_anonymous(ReadWrite)
        .unwrap_err();
    assert_invalid(err, "no offset");
    let err = Mmap::<u8>::options().map_anonymous(ReadWrite).unwrap_err();
    assert_invalid(err, "needs a length");
}

#[test]
fn device_without_length_is_rejected_and_with_length_maps() {
    let f = File::open("/dev/zero").unwrap();
    // SAFETY: never created.
    let err = unsafe { Mmap::<u8>::create(&f, ReadOnly) }.unwrap_err();
    assert_invalid(err, "not a regular file");
    // SAFETY: /dev/zero has no contents anyone else can change.
    let map = unsafe {
        Mmap::<u8>::options()
            .len(8192)
            .private(true)
            .map(&f, ReadOnly)
            .unwrap()
    };
    assert!(map.as_slice().iter().all(|&b| b == 0));
}

#[test]
fn private_mappings_do_not_write_through() {
    let f = temp_file(&[5u8; 4096]);
    {
        // SAFETY: private file.
        let mut map = unsafe {
            Mmap::<u8>::options()
                .private(true)
                .map(&f, ReadWrite)
                .unwrap()
        };
        map.as_mut_slice()[0] = 9;
        assert_eq!(map.as_slice()[0], 9);
    }
    // SAFETY: private file.
    let map = unsafe { Mmap::<u8>::create(&f, ReadOnly).unwrap() };
    assert_eq!(map.as_slice()[0], 5);
}

#[test]
fn populate_and_address_hint_still_map() {
    let f = temp_file(&[7u8; 8192]);
    // SAFETY: private file.
    let map = unsafe {
        Mmap::<u8>::options()
            .populate(true)
            .address_hint(0x4000_0000)
            .map(&f, ReadOnly)
            .unwrap()
    };
    assert_eq!(map.as_slice()[8191], 7);
}

#[test]
fn msync_ranges_are_checked_against_the_mapping() {
    let map = Mmap::<u8>::anonymous(3 * 4096, ReadWrite).unwrap();
    map.msync().unwrap();
    map.msync_async().unwrap();
    map.msync_range(1, 1, MsyncFlags::SYNC | MsyncFlags::INVALIDATE)
        .unwrap();
    map.msync_range(3 * 4096, 0, MsyncFlags::ASYNC).unwrap();
    let err = map.msync_range(3 * 4096, 1, MsyncFlags::SYNC).unwrap_err();
    assert_invalid(err, "outside the mapping");
    let err = map
        .msync_range(1, usize::MAX, MsyncFlags::SYNC)
        .unwrap_err();
    assert_invalid(err, "outside the mapping");
}

// ---- Sharing ---------------------------------------------------------------

/// The seed's reference counting: `Arc<Mmap<T>>` keeps the mapping until the
/// last clone is dropped. Checked in a child process so no parallel test can
/// reuse the address between the drop and the look at /proc/self/maps.
#[test]
fn arc_keeps_the_mapping_until_the_last_clone() {
    const ROLE_NAME: &str = "arc";
    if is_child(ROLE_NAME) {
        let map = Arc::new(Mmap::<[AtomicU64; 4]>::anonymous(7 * 4096, ReadWrite).unwrap());
        let addr = map.as_ptr() as usize;
        assert!(is_mapped(addr));
        let threads: Vec<_> = (0..4)
            .map(|i| {
                let m = Arc::clone(&map);
                std::thread::spawn(move || {
                    m.atomic()[i].fetch_add(1, Ordering::SeqCst);
                    m
                })
            })
            .collect();
        let survivors: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        drop(map);
        assert!(is_mapped(addr), "unmapped while clones live");
        for i in 0..4 {
            assert_eq!(survivors[0].atomic()[i].load(Ordering::SeqCst), 1);
        }
        drop(survivors);
        assert!(!is_mapped(addr), "still mapped after the last clone");
        return;
    }
    assert_child_ok(&run_child(
        "arc_keeps_the_mapping_until_the_last_clone",
        ROLE_NAME,
        &[],
    ));
}

/// A real second process (this test binary, re-run) writes through a shared
/// segment; the parent reads what it wrote.
#[test]
fn second_process_writes_through_a_shared_segment() {
    const ROLE_NAME: &str = "writer";
    if is_child(ROLE_NAME) {
        let name = std::env::var("MEMSEG_TEST_SEGMENT").unwrap();
        let shm = Shm::open(&name).unwrap();
        let mut view = SharedMmap::<[u8; 16]>::create(&shm, ReadWrite).unwrap();
        view.write(*b"written by child");
        let counter = SharedMmap::<[AtomicU64; 4]>::create(&shm, ReadWrite).unwrap();
        counter.atomic()[3].store(std::process::id() as u64, Ordering::SeqCst);
        view.msync().unwrap();
        return;
    }
    let shm = Shm::create_unique("memseg-test-2proc-", 4096).unwrap();
    let view = SharedMmap::<[u8; 16]>::create(&shm, ReadOnly).unwrap();
    assert_eq!(view.read(), [0u8; 16]);
    let out = run_child(
        "second_process_writes_through_a_shared_segment",
        ROLE_NAME,
        &[("MEMSEG_TEST_SEGMENT", shm.name().as_str().to_owned())],
    );
    assert_child_ok(&out);
    assert_eq!(&view.read(), b"written by child");
    let mut bytes = [0u8; 8];
    view.read_bytes(24, &mut bytes).unwrap();
    assert_ne!(u64::from_ne_bytes(bytes), 0, "child pid not seen");
    assert_ne!(u64::from_ne_bytes(bytes), std::process::id() as u64);
}

/// The seed's standalone segment: an anonymous mapping is shared with a
/// forked child (the closure of `pre_exec` runs in the child after fork).
#[test]
fn anonymous_shared_mapping_is_shared_with_a_forked_child() {
    let shared = Mmap::<[AtomicU64; 2]>::anonymous(4096, ReadWrite).unwrap();
    let private = Mmap::<[AtomicU64; 2]>::options()
        .len(4096)
        .private(true)
        .map_anonymous(ReadWrite)
        .unwrap();
    let (s, p) = (shared.as_ptr() as usize, private.as_ptr() as usize);
    let mut cmd = Command::new("true");
    // SAFETY: the closure runs in the forked child before exec; it only does
    // two atomic stores to memory the child inherited (async-signal-safe).
    unsafe {
        cmd.pre_exec(move || {
            (*(s as *const [AtomicU64; 2]))[1].store(0xC0FFEE, Ordering::SeqCst);
            (*(p as *const [AtomicU64; 2]))[1].store(0xC0FFEE, Ordering::SeqCst);
            Ok(())
        });
    }
    assert!(cmd.status().unwrap().success());
    assert_eq!(shared.atomic()[1].load(Ordering::SeqCst), 0xC0FFEE);
    // The control: a private mapping is copied on write, not shared.
    assert_eq!(private.atomic()[1].load(Ordering::SeqCst), 0);
}

#[test]
fn shared_view_copies_in_and_out_with_bounds_checks() {
    let shm = Shm::create_unique("memseg-test-view-", 64).unwrap();
    let mut view = SharedMmap::<u32>::create(&shm, ReadWrite).unwrap();
    assert_eq!(view.count(), 16);
    view.write_at(15, 0xDEADBEEF).unwrap();
    assert_eq!(view.read_at(15), Some(0xDEADBEEF));
    assert_eq!(view.read_at(16), None);
    assert_invalid(view.write_at(16, 1).unwrap_err(), "past the");
    view.write_bytes(0, b"abcd").unwrap();
    assert_eq!(view.read(), u32::from_ne_bytes(*b"abcd"));
    let mut buf = [0u8; 4];
    assert_invalid(
        view.read_bytes(61, &mut buf).unwrap_err(),
        "outside the mapping",
    );
    assert_invalid(
        view.write_bytes(usize::MAX, b"x").unwrap_err(),
        "outside the mapping",
    );
}

// ---- Leaks -----------------------------------------------------------------

/// 10,000 create/drop cycles of every constructor, failing ones included,
/// leave the descriptor count and the mapping count unchanged. Run in a
/// child so parallel tests do not disturb the counts.
#[test]
fn ten_thousand_cycles_leak_nothing() {
    const ROLE_NAME: &str = "cycles";
    if is_child(ROLE_NAME) {
        let mut f = temp_file(&[1u8; 5000]);
        f.flush().unwrap();
        let ro_path = std::env::temp_dir().join(unique("ro"));
        std::fs::write(&ro_path, [0u8; 4096]).unwrap();
        let ro = File::open(&ro_path).unwrap();
        std::fs::remove_file(&ro_path).unwrap();
        let taken = Shm::create_unique("memseg-test-taken-", 4096).unwrap();
        let (fds, maps) = (fd_count(), map_count());
        for i in 0..10_000u64 {
            drop(Mmap::<u64>::anonymous(4096, ReadWrite).unwrap());
            assert!(Mmap::<u64>::anonymous(0, ReadWrite).is_err());
            // SAFETY: private file, never changed while mapped.
            unsafe {
                drop(
                    Mmap::<u8>::options()
                        .offset(i % 5000)
                        .map(&f, ReadOnly)
                        .unwrap(),
                );
                assert!(Mmap::<u8>::options()
                    .offset(5001)
                    .map(&f, ReadOnly)
                    .is_err());
                assert!(Mmap::<u8>::create(&ro, ReadWrite).is_err());
                drop(MmapFile::create(&f, ReadWrite).unwrap());
            }
            assert!(SharedMmap::<u8>::create(&ro, ReadWrite).is_err());
            if i % 10 == 0 {
                drop(Shm::create_unique("memseg-test-cycle-", 4096).unwrap());
                assert!(Shm::create_new(taken.name().as_str(), 4096).is_err());
                assert!(Shm::create_new("bad/name", 4096).is_err());
            }
        }
        assert_eq!(fd_count(), fds, "descriptors leaked");
        assert_eq!(map_count(), maps, "mappings leaked");
        return;
    }
    assert_child_ok(&run_child(
        "ten_thousand_cycles_leak_nothing",
        ROLE_NAME,
        &[],
    ));
}
