//! Growing and shrinking mappings: `Mmap::remap` (anonymous, private and
//! shared), `remap_file` and `MmapFile::remap` on files, and
//! `Shm::set_len_and_remap`, whose new size a second process sees.

mod common;

use common::*;
use memseg::{Mmap, MmapFile, ReadOnly, ReadWrite, SharedMmap, Shm};
use std::os::unix::fs::FileExt;

/// A private anonymous mapping grows (contents kept, new bytes zero) and
/// shrinks (prefix kept); typed views afterwards see the new length.
#[test]
fn private_anonymous_grows_and_shrinks_keeping_contents() {
    let mut v = Mmap::<u32>::options()
        .len(page())
        .private(true)
        .map_anonymous(ReadWrite)
        .unwrap();
    for (i, x) in v.as_mut_slice().iter_mut().enumerate() {
        *x = i as u32;
    }
    v.remap(64 * page()).unwrap();
    assert_eq!(v.len(), 64 * page());
    let n = page() / 4;
    assert!(v.as_slice()[..n]
        .iter()
        .enumerate()
        .all(|(i, &x)| x == i as u32));
    assert!(v.as_slice()[n..].iter().all(|&x| x == 0));
    *v.as_mut_slice().last_mut().unwrap() = 7;
    v.remap(10).unwrap(); // not a page multiple: the view is exactly 10 bytes
    assert_eq!(v.len(), 10);
    assert_eq!(v.as_slice(), &[0, 1]);
    v.remap(2 * page()).unwrap();
    assert_eq!(v.as_slice()[1], 1);
    assert_eq!(v.as_slice()[page() / 4], 0);
}

/// A shared anonymous mapping cannot simply be mremap'ed larger (its
/// backing object keeps its size: the new pages would raise SIGBUS), so
/// memseg copies; touching the last new byte must not crash.
#[test]
fn shared_anonymous_grows_without_sigbus() {
    let mut v = Mmap::<u8>::anonymous(page(), ReadWrite).unwrap();
    v.as_mut_slice()[page() - 1] = 9;
    v.remap(16 * page()).unwrap();
    assert_eq!(v.as_slice()[page() - 1], 9);
    *v.as_mut_slice().last_mut().unwrap() = 1;
    assert_eq!(*v.as_slice().last().unwrap(), 1);
    v.remap(page() / 2).unwrap(); // shrinking is a plain mremap
    assert_eq!(v.as_slice()[page() / 2 - 1], 0);
    // A read-only anonymous mapping grows too (the copy is made writable
    // only while copying).
    let mut ro = Mmap::<u8>::anonymous(page(), ReadOnly).unwrap();
    ro.remap(4 * page()).unwrap();
    assert_eq!(ro.as_slice()[4 * page() - 1], 0);
}

/// The rules: never below one `T`, never zero, anonymous vs file methods.
#[test]
fn remap_rejects_what_it_cannot_do() {
    let mut v = Mmap::<[u64; 4]>::anonymous(page(), ReadWrite).unwrap();
    assert_invalid(v.remap(31).unwrap_err(), "smaller than the mapped type");
    assert_invalid(v.remap(0).unwrap_err(), "smaller than the mapped type");
    let f = temp_file(&[0; 100]);
    assert_invalid(v.remap_file(&f, 64).unwrap_err(), "anonymous");
    assert_eq!(v.len(), page()); // unchanged

    // SAFETY: the file is private to this test.
    let mut m = unsafe { Mmap::<u8>::options().map(&f, ReadWrite).unwrap() };
    assert_invalid(m.remap(50).unwrap_err(), "file mapping");
}

/// A file mapping grows after its file does, keeps its offset, and refuses
/// to reach past the end of the file or to follow a different file.
#[test]
fn file_mapping_grows_inside_its_file_only() {
    let f = temp_file(&vec![1u8; 3 * page()]);
    // SAFETY: the file is private to this test.
    let mut m = unsafe {
        Mmap::<u8>::options()
            .offset(page() as u64 + 100)
            .len(10)
            .map(&f, ReadWrite)
            .unwrap()
    };
    let rest = 2 * page() - 100;
    m.remap_file(&f, rest).unwrap();
    assert_eq!(m.len(), rest);
    assert!(m.as_slice().iter().all(|&b| b == 1));
    assert_invalid(
        m.remap_file(&f, rest + 1).unwrap_err(),
        "past the end of the file",
    );
    f.set_len(8 * page() as u64).unwrap();
    m.remap_file(&f, 6 * page()).unwrap();
    m.as_mut_slice()[6 * page() - 1] = 2;
    let mut b = [0u8];
    f.read_at(&mut b, (7 * page() + 99) as u64).unwrap();
    assert_eq!(b, [2]);
    let other = temp_file(&vec![0u8; 8 * page()]);
    assert_invalid(m.remap_file(&other, page()).unwrap_err(), "not the file");
    m.remap_file(&f, 1).unwrap();
    assert_eq!(m.as_slice(), &[1]);
}

/// A private file mapping keeps its private changes across a resize.
#[test]
fn private_file_mapping_keeps_private_changes() {
    let f = temp_file(&vec![1u8; 4 * page()]);
    // SAFETY: the file is private to this test.
    let mut m = unsafe {
        Mmap::<u8>::options()
            .len(page())
            .private(true)
            .map(&f, ReadWrite)
            .unwrap()
    };
    m.as_mut_slice()[0] = 5;
    m.remap_file(&f, 4 * page()).unwrap();
    assert_eq!(m.as_slice()[0], 5);
    assert_eq!(m.as_slice()[4 * page() - 1], 1);
    let mut b = [0u8];
    f.read_at(&mut b, 0).unwrap();
    assert_eq!(b, [1]);
}

/// `MmapFile::remap` follows its file: grown, shrunk to empty, grown again.
#[test]
fn mmapfile_follows_its_file() {
    let f = temp_file(b"abc");
    // SAFETY: the file is private to this test and only we change it.
    let mut m = unsafe { MmapFile::create(&f, ReadWrite).unwrap() };
    f.write_all_at(b"defg", 3).unwrap();
    m.remap(&f).unwrap();
    assert_eq!(m.buffer(), b"abcdefg");
    f.set_len(0).unwrap();
    m.remap(&f).unwrap();
    assert_eq!(m.size(), 0);
    f.write_all_at(b"xyz", 0).unwrap();
    m.remap(&f).unwrap();
    assert_eq!(m.buffer(), b"xyz");
    let other = temp_file(b"");
    assert_invalid(m.remap(&other).unwrap_err(), "not the file");
    assert_eq!(m.buffer(), b"xyz");
}

/// The child's side of the grow test: opens the segment and checks its
/// new size and the marker the parent wrote in its last `u64`.
#[test]
fn child_entry_grown_segment() {
    if !is_child("grown-segment") {
        return;
    }
    let name = std::env::var("MEMSEG_TEST_SHM").unwrap();
    let len: u64 = std::env::var("MEMSEG_TEST_LEN").unwrap().parse().unwrap();
    let shm = Shm::open(&name).unwrap();
    assert_eq!(shm.len(), len);
    let view = SharedMmap::<u64>::create(&shm, ReadOnly).unwrap();
    assert_eq!(view.len() as u64, len);
    assert_eq!(view.read_at(view.count() - 1), Some(0xFEED));
    assert_eq!(view.read_at(0), Some(1));
}

/// `Shm::set_len_and_remap` grows segment and mapping in one call; a
/// second process sees the new size and what was written past the old end.
#[test]
#[cfg(not(target_os = "macos"))] // macOS sizes a segment only once
fn shm_grows_with_its_mapping_and_a_second_process_sees_it() {
    let mut shm = Shm::create_unique("memseg-test-grow-", page() as u64).unwrap();
    // SAFETY: the segment has a fresh random name; the child only reads it
    // after we are done writing.
    let mut map = unsafe { Mmap::<u64>::create(&shm, ReadWrite).unwrap() };
    map.as_mut_slice()[0] = 1;
    let new_len = 64 * page() as u64;
    shm.set_len_and_remap(new_len, &mut map).unwrap();
    assert_eq!(shm.len(), new_len);
    assert_eq!(shm.file().metadata().unwrap().len(), new_len);
    assert_eq!(map.len() as u64, new_len);
    assert_eq!(map.as_slice()[0], 1);
    *map.as_mut_slice().last_mut().unwrap() = 0xFEED;
    let out = run_child(
        "child_entry_grown_segment",
        "grown-segment",
        &[
            ("MEMSEG_TEST_SHM", shm.name().as_str().to_string()),
            ("MEMSEG_TEST_LEN", new_len.to_string()),
        ],
    );
    assert_child_ok(&out);

    // Shrinking: the mapping first, then the segment.
    shm.set_len_and_remap(2 * page() as u64, &mut map).unwrap();
    assert_eq!(map.len(), 2 * page());
    assert_eq!(shm.file().metadata().unwrap().len(), 2 * page() as u64);
    assert_eq!(map.as_slice()[0], 1);
}

/// Every mapping type follows, from its own offset; the rules are checked
/// before anything changes.
#[test]
#[cfg(not(target_os = "macos"))] // macOS sizes a segment only once
fn shm_resize_rules_and_offsets() {
    let mut shm = Shm::create_unique("memseg-test-resize-", 2 * page() as u64).unwrap();
    let mut shared = Mmap::<u8>::options()
        .offset(page() as u64 + 8)
        .map_shared(&shm, ReadWrite)
        .unwrap();
    shm.set_len_and_remap(4 * page() as u64, &mut shared)
        .unwrap();
    assert_eq!(shared.len(), 3 * page() - 8);
    // SAFETY: the segment is private to this test.
    let mut file = unsafe { MmapFile::create(&shm, ReadWrite).unwrap() };
    shm.set_len_and_remap(5 * page() as u64, &mut file).unwrap();
    assert_eq!(file.size(), 5 * page());
    shm.set_len_and_remap(0, &mut file).unwrap();
    assert_eq!(file.size(), 0);
    assert_eq!(shm.len(), 0);
    shm.set_len_and_remap(page() as u64, &mut file).unwrap();
    assert_eq!(file.size(), page());

    // A typed mapping never shrinks below one T; nothing changes on error.
    // SAFETY: as above.
    let mut typed = unsafe { Mmap::<[u8; 64]>::create(&shm, ReadWrite).unwrap() };
    assert_invalid(
        shm.set_len_and_remap(63, &mut typed).unwrap_err(),
        "less than the mapped type",
    );
    assert_eq!(shm.file().metadata().unwrap().len(), page() as u64);
    assert_eq!(typed.len(), page());
    // Another segment's mapping is refused.
    let mut other = Shm::create_unique("memseg-test-resize-", page() as u64).unwrap();
    assert_invalid(
        other
            .set_len_and_remap(page() as u64 * 2, &mut typed)
            .unwrap_err(),
        "not a mapping of this segment",
    );
    let mut anon = Mmap::<u8>::anonymous(page(), ReadWrite).unwrap();
    assert_invalid(
        other
            .set_len_and_remap(page() as u64 * 2, &mut anon)
            .unwrap_err(),
        "not a mapping of this segment",
    );
    assert_eq!(other.len(), page() as u64);
}

/// Bytes re-exposed by a grow read as zero, even when an earlier shrink
/// kept them inside a page the mapping still had (found by the `ops` fuzz
/// target: len 100, write at 90, shrink to 50, grow to 100 read the old
/// byte). Private, shared, and read-only (no PROT_WRITE at the time).
#[test]
fn regrown_bytes_read_as_zero_after_a_shrink() {
    let private = Mmap::<u8>::options()
        .len(100)
        .private(true)
        .map_anonymous(ReadWrite)
        .unwrap();
    let shared = Mmap::<u8>::anonymous(100, ReadWrite).unwrap();
    for mut map in [private, shared] {
        map.as_mut_slice()[90] = 7;
        map.as_mut_slice()[49] = 5;
        map.remap(50).unwrap();
        map.remap(100).unwrap();
        assert_eq!(map.as_slice()[49], 5, "kept byte lost");
        assert_eq!(map.as_slice()[90], 0, "stale byte re-exposed");
        // Across pages too: the tail of the old last page is zeroed, new
        // pages come zero-filled from the kernel.
        map.as_mut_slice()[99] = 9;
        map.remap(60).unwrap();
        map.remap(3 * page()).unwrap();
        assert!(map.as_slice()[60..].iter().all(|&b| b == 0));
    }
    // A read-only mapping: memseg lends itself PROT_WRITE for the zeroing
    // and gives it back.
    let mut rw = Mmap::<u8>::options()
        .len(100)
        .private(true)
        .map_anonymous(ReadWrite)
        .unwrap();
    rw.as_mut_slice()[90] = 7;
    let mut ro = rw.into_read_only().map_err(|e| e.into_parts().1).unwrap();
    ro.remap(50).unwrap();
    ro.remap(100).unwrap();
    assert_eq!(ro.as_slice()[90], 0);
    let rw = ro.into_read_write().map_err(|e| e.into_parts().1).unwrap();
    assert_eq!(rw.as_slice()[90], 0);
}

/// `mremap` moves one VMA only; advice, locking or a protection change on
/// part of a mapping splits it, and the kernel answers `EFAULT`. remap then
/// maps anew and copies, keeping the contents (found by the `ops` fuzz
/// target).
#[test]
fn remap_works_after_part_of_the_mapping_was_advised_or_locked() {
    let mut map = Mmap::<u8>::options()
        .len(4 * page())
        .private(true)
        .map_anonymous(ReadWrite)
        .unwrap();
    for (i, b) in map.as_mut_slice().iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    #[cfg(target_os = "linux")]
    map.advise_range(memseg::Advice::DontDump, page(), 1)
        .unwrap();
    map.advise_range(memseg::Advice::Random, 2 * page(), 1)
        .unwrap();
    if map.lock_range(3 * page(), 1).is_ok() {
        map.remap(16 * page()).unwrap();
        assert_eq!(map.len(), 16 * page());
        map.unlock().unwrap();
    } else {
        map.remap(16 * page()).unwrap();
    }
    for (i, &b) in map.as_slice()[..4 * page()].iter().enumerate() {
        assert_eq!(b, (i % 251) as u8, "byte {} lost in the move", i);
    }
    assert!(map.as_slice()[4 * page()..].iter().all(|&b| b == 0));
    map.remap(2 * page()).unwrap();
    assert_eq!(
        map.as_slice()[2 * page() - 1],
        ((2 * page() - 1) % 251) as u8
    );
}
