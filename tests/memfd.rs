//! memfd (`Memfd`, `MemfdOptions`) and seals against the real kernel
//! (Linux): creation flags, every seal's effect through other descriptors
//! and mappings with exact errno, and the safe read-only mappings of a
//! sealed memfd, shared with a second process.
#![cfg(target_os = "linux")]

mod common;

use common::*;
use memseg::sys::{EACCES, EBUSY, EINVAL, ENOMEM, EPERM};
use memseg::{HugePageSize, Memfd, MemfdOptions, Mmap, MmapFile, ReadWrite, SealFlags, SharedMmap};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;

/// A second, independent descriptor (its own open file description) of the
/// same memfd, the way another process would reach it.
fn reopen(memfd: &impl AsRawFd, write: bool) -> File {
    OpenOptions::new()
        .read(true)
        .write(write)
        .open(format!("/proc/self/fd/{}", memfd.as_raw_fd()))
        .unwrap()
}

/// The `flags:` line of `/proc/self/fdinfo/<fd>` (octal open flags).
fn fd_flags(fd: &impl AsRawFd) -> u32 {
    let text = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd())).unwrap();
    let line = text.lines().find(|l| l.starts_with("flags:")).unwrap();
    u32::from_str_radix(line["flags:".len()..].trim(), 8).unwrap()
}

#[test]
fn creation_flags_reach_the_kernel() {
    const O_CLOEXEC: u32 = memseg::sys::O_CLOEXEC as u32;
    let plain = MemfdOptions::new().create("plain").unwrap();
    assert_ne!(fd_flags(&plain) & O_CLOEXEC, 0);
    // Without MFD_ALLOW_SEALING the memfd starts with F_SEAL_SEAL.
    assert_eq!(plain.seals().unwrap(), SealFlags::SEAL);
    let err = plain.add_seals(SealFlags::SHRINK).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EPERM));

    let inherit = MemfdOptions::new()
        .close_on_exec(false)
        .create("inherit")
        .unwrap();
    assert_eq!(fd_flags(&inherit) & O_CLOEXEC, 0);

    let sealable = Memfd::new("sealable").unwrap();
    assert_eq!(sealable.seals().unwrap(), SealFlags::empty());
    let link = std::fs::read_link(format!("/proc/self/fd/{}", sealable.as_raw_fd())).unwrap();
    assert_eq!(link.to_str().unwrap(), "/memfd:sealable (deleted)");
    assert_eq!(sealable.len().unwrap(), 0);
}

#[test]
fn bad_names_are_rejected() {
    assert_invalid(Memfd::new("a\0b").unwrap_err(), "NUL");
    // The kernel allows 249 bytes (255 - "memfd:").
    Memfd::new(&"n".repeat(249)).unwrap();
    let err = Memfd::new(&"n".repeat(250)).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EINVAL));
}

/// After `seal_read_only`, writing through another descriptor fails with
/// `EPERM`, so do `ftruncate` (both ways) and a writable shared mapping;
/// no further seals can be added.
#[test]
fn sealed_memfd_refuses_every_change() {
    let memfd = Memfd::new("sealed").unwrap();
    memfd.set_len(4096).unwrap();
    memfd.file().write_all_at(b"frozen", 0).unwrap();
    memfd.seal_read_only().unwrap();
    assert!(memfd
        .seals()
        .unwrap()
        .contains(SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL));

    let mut other = reopen(&memfd, true);
    let err = other.write_all(b"thaw").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EPERM));
    let err = other.write_at(b"thaw", 0).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EPERM));
    let err = other.set_len(0).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EPERM));
    let err = memfd.set_len(8192).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EPERM));
    let err = SharedMmap::<u8>::create(&memfd, ReadWrite).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EPERM));
    let err = memfd.add_seals(SealFlags::GROW).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EPERM));
    let mut buf = [0u8; 6];
    other.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(&buf, b"frozen");
}

/// `F_SEAL_WRITE` cannot be added while a writable shared mapping exists
/// (`EBUSY`), which is what makes it airtight; `F_SEAL_FUTURE_WRITE` can,
/// and the old mapping keeps writing - why it does not make a memfd safe
/// to hand out references into.
#[test]
fn write_seal_waits_for_writable_mappings_future_write_does_not() {
    let memfd = Memfd::new("busy").unwrap();
    memfd.set_len(4096).unwrap();
    let mut writer = SharedMmap::<u8>::create(&memfd, ReadWrite).unwrap();
    let err = memfd.add_seals(SealFlags::WRITE).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EBUSY));

    memfd
        .add_seals(SealFlags::SHRINK | SealFlags::FUTURE_WRITE)
        .unwrap();
    writer.write_bytes(0, b"still writing").unwrap();
    let err = SharedMmap::<u8>::create(&memfd, ReadWrite).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EPERM));
    assert_invalid(
        Mmap::<u8>::from_sealed(&memfd).unwrap_err(),
        "F_SEAL_FUTURE_WRITE",
    );

    drop(writer);
    memfd.add_seals(SealFlags::WRITE).unwrap();
    let view = Mmap::<[u8; 13]>::from_sealed(&memfd).unwrap();
    assert_eq!(view.object(), b"still writing");
}

/// `from_sealed` checks the seals: missing ones are named, a file that is
/// not a memfd is the kernel's `EINVAL`; `F_SEAL_GROW` is not required.
#[test]
fn from_sealed_requires_shrink_and_write_seals() {
    let memfd = Memfd::new("partial").unwrap();
    memfd.set_len(4096).unwrap();
    assert_invalid(
        Mmap::<u8>::from_sealed(&memfd).unwrap_err(),
        "SHRINK | WRITE",
    );
    assert_invalid(MmapFile::from_sealed(&memfd).unwrap_err(), "SHRINK | WRITE");
    memfd.add_seals(SealFlags::SHRINK).unwrap();
    assert_invalid(Mmap::<u8>::from_sealed(&memfd).unwrap_err(), "lack WRITE");
    memfd.add_seals(SealFlags::WRITE).unwrap();
    let view = Mmap::<u8>::from_sealed(&memfd).unwrap();
    assert_eq!(view.len(), 4096);
    // Not sealed against growth: it may grow, the mapped part stays valid.
    memfd.set_len(8192).unwrap();
    assert_eq!(view.as_slice()[4095], 0);

    let file = temp_file(&[0; 16]);
    let err = Mmap::<u8>::from_sealed(&file).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EINVAL));
}

/// The read-only mapping of a sealed memfd cannot be made writable (the
/// kernel refuses `PROT_WRITE` on a shared mapping of it); a private one
/// can, because its stores go to private copies.
#[test]
fn sealed_mappings_stay_read_only() {
    let memfd = Memfd::new("ro").unwrap();
    memfd.set_len(4096).unwrap();
    memfd.file().write_all_at(&[1], 0).unwrap();
    memfd.seal_read_only().unwrap();
    let bytes = MmapFile::from_sealed(&memfd).unwrap();
    let err = bytes.into_read_write().unwrap_err();
    assert_eq!(err.error().raw_os_error(), Some(EACCES));
    let bytes = err.into_mapping();
    assert_eq!(bytes.buffer()[0], 1);

    let private = Mmap::<u8>::options()
        .private(true)
        .offset(0)
        .map_sealed(&memfd)
        .unwrap();
    let mut private = private.into_read_write().unwrap();
    private.as_mut_slice()[0] = 2;
    assert_eq!(bytes.buffer()[0], 1);
}

/// The child's side: maps the parent's sealed memfd (through
/// `/proc/<pid>/fd/<n>`, read-only) with the safe constructor.
#[test]
fn child_entry_sealed_reader() {
    if !is_child("sealed-reader") {
        return;
    }
    let path = std::env::var("MEMSEG_TEST_MEMFD").unwrap();
    let file = File::open(path).unwrap();
    let table = Mmap::<[u64; 4]>::from_sealed(&file).unwrap();
    assert_eq!(table.object(), &[1, 2, 3, 4]);
    let bytes = MmapFile::from_sealed(&file).unwrap();
    assert_eq!(bytes.size(), 4096);
}

/// The safe way to share read-only data with another process.
#[test]
fn sealed_memfd_is_shared_read_only_with_a_second_process() {
    let memfd = Memfd::new("table").unwrap();
    memfd.set_len(4096).unwrap();
    {
        let mut fill = SharedMmap::<[u64; 4]>::create(&memfd, ReadWrite).unwrap();
        fill.write([1, 2, 3, 4]);
    } // the writable mapping is gone: F_SEAL_WRITE can be added
    memfd.seal_read_only().unwrap();
    let path = format!("/proc/{}/fd/{}", std::process::id(), memfd.as_raw_fd());
    let out = run_child(
        "child_entry_sealed_reader",
        "sealed-reader",
        &[("MEMSEG_TEST_MEMFD", path)],
    );
    assert_child_ok(&out);
}

/// Huge page memfds: sizes must be huge page multiples (`EINVAL`), and
/// mapping one with an empty pool is `ENOMEM`, not a crash.
#[test]
fn huge_page_memfd() {
    let size = match HugePageSize::DEFAULT.bytes() {
        Ok(size) => size,
        Err(_) => return, // no hugetlbfs
    };
    let memfd = MemfdOptions::new()
        .allow_sealing(true)
        .huge_pages(HugePageSize::DEFAULT)
        .create("huge")
        .unwrap();
    let err = memfd.set_len(4096).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EINVAL));
    memfd.set_len(size as u64).unwrap();
    // SAFETY: the memfd is private to this test.
    let mapped = unsafe { Mmap::<u8>::create(&memfd, ReadWrite) };
    if HugePageSize::DEFAULT.free_pages().unwrap() == 0 {
        assert_eq!(mapped.unwrap_err().raw_os_error(), Some(ENOMEM));
    } else {
        let mut mapped = mapped.unwrap();
        mapped.as_mut_slice()[size - 1] = 1;
        assert_eq!(mapped.as_ptr() as usize % size, 0);
    }
}
