//! The mapping toolbox against real memory (Linux): every safe and unchecked
//! advice, populate (map time and on demand), protection changes seen by a
//! forked child, locking, huge pages and the other `MAP_*` flags, checked
//! through `/proc/self/smaps` and exact errno values.
#![cfg(target_os = "linux")]

mod common;

use common::{assert_invalid, page};

use memseg::sys::{EACCES, EEXIST, EINVAL, ENOMEM, EOPNOTSUPP};
use memseg::{
    Advice, HugePageSize, Mmap, ReadExec, ReadOnly, ReadWrite, SharedMmap, Shm, ShmOptions,
    UncheckedAdvice,
};
use std::collections::HashMap;
use std::io::ErrorKind;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::Command;

/// The `/proc/self/smaps` entry of the mapping that contains `addr`: its
/// permissions, its `Key: N kB` fields (in bytes) and its `VmFlags`.
struct Smaps {
    perms: String,
    fields: HashMap<String, u64>,
    vm_flags: Vec<String>,
}

fn smaps(addr: usize) -> Smaps {
    let text = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let mut found: Option<Smaps> = None;
    for line in text.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if let Some((lo, hi)) = first.split_once('-') {
            if let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
            {
                if found.is_some() {
                    break;
                }
                if (lo..hi).contains(&addr) {
                    found = Some(Smaps {
                        perms: line.split_whitespace().nth(1).unwrap().to_string(),
                        fields: HashMap::new(),
                        vm_flags: Vec::new(),
                    });
                }
                continue;
            }
        }
        if let Some(s) = found.as_mut() {
            if let Some(rest) = line.strip_prefix("VmFlags:") {
                s.vm_flags = rest.split_whitespace().map(String::from).collect();
            } else if let Some((k, v)) = line.split_once(':') {
                let mut words = v.split_whitespace();
                if let (Some(n), Some("kB")) = (words.next(), words.next()) {
                    s.fields
                        .insert(k.to_string(), n.parse::<u64>().unwrap() * 1024);
                }
            }
        }
    }
    found.unwrap_or_else(|| panic!("no mapping contains {:#x}", addr))
}

fn private_anon(len: usize) -> Mmap<u8, ReadWrite> {
    Mmap::<u8>::options()
        .len(len)
        .private(true)
        .map_anonymous(ReadWrite)
        .unwrap()
}

// ---- Advice ---------------------------------------------------------------

/// Every safe advice runs against real memory and leaves the contents as
/// they were (even `PageOut`, which pushes the pages to swap or drops them).
#[test]
fn every_safe_advice_succeeds_and_keeps_the_contents() {
    let mut map = private_anon(4 * page());
    for (i, b) in map.as_mut_slice().iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    let mut advice = vec![
        Advice::Normal,
        Advice::Random,
        Advice::Sequential,
        Advice::WillNeed,
        Advice::DontFork,
        Advice::DoFork,
        Advice::DontDump,
        Advice::DoDump,
        Advice::KeepOnFork,
        Advice::Cold,
        Advice::PageOut,
        Advice::PopulateRead,
        Advice::PopulateWrite,
        Advice::Normal,
    ];
    if Path::new("/sys/kernel/mm/transparent_hugepage").exists() {
        advice.extend([Advice::HugePage, Advice::NoHugePage]);
    }
    if Path::new("/sys/kernel/mm/ksm").exists() {
        advice.extend([Advice::Mergeable, Advice::Unmergeable]);
    }
    for a in advice {
        map.advise(a).unwrap_or_else(|e| panic!("{:?}: {}", a, e));
        map.advise_range(a, 10, page())
            .unwrap_or_else(|e| panic!("{:?} range: {}", a, e));
    }
    for (i, b) in map.as_slice().iter().enumerate() {
        assert_eq!(*b, (i % 251) as u8, "byte {} changed", i);
    }
}

/// The advice reaches the kernel: `/proc/self/smaps` shows its `VmFlags`.
#[test]
fn advice_shows_in_vm_flags() {
    let map = private_anon(2 * page());
    let addr = map.as_ptr() as usize;
    map.advise(Advice::DontDump).unwrap();
    assert!(smaps(addr).vm_flags.contains(&"dd".to_string()));
    map.advise(Advice::DoDump).unwrap();
    assert!(!smaps(addr).vm_flags.contains(&"dd".to_string()));
    map.advise(Advice::DontFork).unwrap();
    assert!(smaps(addr).vm_flags.contains(&"dc".to_string()));
    map.advise(Advice::Random).unwrap();
    assert!(smaps(addr).vm_flags.contains(&"rr".to_string()));
    map.advise(Advice::Sequential).unwrap();
    assert!(smaps(addr).vm_flags.contains(&"sr".to_string()));
}

/// Transparent huge pages: `MADV_HUGEPAGE` marks the range (`hg`), as
/// `/sys/kernel/mm/transparent_hugepage/enabled = madvise` expects.
#[test]
fn transparent_huge_page_advice_marks_the_range() {
    if !Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists() {
        eprintln!("skipped: kernel without transparent huge pages");
        return;
    }
    let map = private_anon(4 << 20);
    let addr = map.as_ptr() as usize;
    map.advise(Advice::HugePage).unwrap();
    assert!(smaps(addr).vm_flags.contains(&"hg".to_string()));
    map.advise(Advice::NoHugePage).unwrap();
    let flags = smaps(addr).vm_flags;
    assert!(flags.contains(&"nh".to_string()) && !flags.contains(&"hg".to_string()));
}

/// Range forms check `offset + len` (not only `len`), with overflow, and
/// round outward to whole pages.
#[test]
fn advice_ranges_are_checked_end_to_end() {
    let map = private_anon(2 * page());
    let len = map.len();
    map.advise_range(Advice::WillNeed, len - 1, 1).unwrap();
    map.advise_range(Advice::WillNeed, page() - 1, 2).unwrap(); // straddles
    map.advise_range(Advice::WillNeed, len, 0).unwrap();
    assert_invalid(
        map.advise_range(Advice::WillNeed, len - 1, 2).unwrap_err(),
        "outside",
    );
    assert_invalid(
        map.advise_range(Advice::WillNeed, 1, len).unwrap_err(),
        "outside",
    );
    assert_invalid(
        map.advise_range(Advice::WillNeed, usize::MAX, 2)
            .unwrap_err(),
        "outside",
    );
    assert_invalid(map.lock_range(page(), page() + 1).unwrap_err(), "outside");
    // SAFETY: the range is rejected before any call.
    let err = unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, len, 1) };
    assert_invalid(err.unwrap_err(), "outside");
}

/// `MADV_DONTNEED` on a private anonymous mapping: the pages of the range
/// (widened to whole pages) read as zero; the pages around it keep their
/// contents.
#[test]
fn dontneed_zeroes_private_anonymous_pages_of_the_range_only() {
    let mut map = private_anon(3 * page());
    map.as_mut_slice().fill(0xAB);
    // SAFETY: no reference into the mapping is live; zero is a valid u8.
    unsafe {
        map.unchecked_advise_range(UncheckedAdvice::DontNeed, page() + 10, 5)
            .unwrap()
    };
    let bytes = map.as_slice();
    assert!(bytes[..page()].iter().all(|&b| b == 0xAB));
    assert!(bytes[page()..2 * page()].iter().all(|&b| b == 0));
    assert!(bytes[2 * page()..].iter().all(|&b| b == 0xAB));
}

/// `MADV_DONTNEED` on a shared mapping keeps the data (it lives in the
/// segment), while `MADV_REMOVE` punches a hole that every mapping of the
/// segment sees; on a `SharedMmap` both are safe calls.
#[test]
fn dontneed_keeps_shared_pages_and_remove_punches_a_hole() {
    let shm = Shm::create_unique("memseg-test-remove-", 2 * page() as u64).unwrap();
    let mut a = SharedMmap::<u8>::create(&shm, ReadWrite).unwrap();
    let b = SharedMmap::<u8>::create(&shm, ReadWrite).unwrap();
    a.write_bytes(0, &vec![7; 2 * page()]).unwrap();
    a.unchecked_advise(UncheckedAdvice::DontNeed).unwrap();
    assert_eq!(b.read_at(0), Some(7));
    a.unchecked_advise_range(UncheckedAdvice::Remove, page(), 1)
        .unwrap();
    assert_eq!(b.read_at(page() - 1), Some(7));
    assert_eq!(b.read_at(page()), Some(0));
    assert_eq!(b.read_at(2 * page() - 1), Some(0));
    // MADV_REMOVE needs a descriptor open for writing (Linux checks that
    // the mapping *may* become writable, not its current protection).
    let ro_fd = ShmOptions::new()
        .read(true)
        .open(shm.name().as_str())
        .unwrap();
    let ro = SharedMmap::<u8>::create(&ro_fd, ReadOnly).unwrap();
    let err = ro.unchecked_advise(UncheckedAdvice::Remove).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EACCES));
    // MADV_FREE is for private anonymous memory only.
    let err = a.unchecked_advise(UncheckedAdvice::Free).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EINVAL));
}

/// `MADV_FREE`: the pages read as their old contents or as zeros.
#[test]
fn free_leaves_old_contents_or_zeros() {
    let mut map = private_anon(page());
    map.as_mut_slice().fill(3);
    // SAFETY: no reference is live; 0 and 3 are both valid u8 values.
    unsafe { map.unchecked_advise(UncheckedAdvice::Free).unwrap() };
    let first = map.as_slice()[0];
    assert!(first == 0 || first == 3);
    assert!(map.as_slice().iter().all(|&b| b == first));
}

/// `MADV_WIPEONFORK`: a forked child sees zeros, the parent keeps its data;
/// `KeepOnFork` undoes it. The pre_exec closure runs in the forked child;
/// an `Err` from it makes `spawn` fail in the parent.
#[test]
fn wipe_on_fork_zeroes_the_childs_copy() {
    let mut map = private_anon(page());
    map.as_mut_slice()[0] = 42;
    // SAFETY: no reference is live; the child's zeros are valid u8 values.
    unsafe { map.unchecked_advise(UncheckedAdvice::WipeOnFork).unwrap() };
    let child_sees = |addr: usize, expect: u8| {
        let mut cmd = Command::new("true");
        // SAFETY: runs in the forked child before exec; one volatile read of
        // memory the child inherited (async-signal-safe).
        unsafe {
            cmd.pre_exec(move || {
                if std::ptr::read_volatile(addr as *const u8) == expect {
                    Ok(())
                } else {
                    Err(std::io::Error::from_raw_os_error(EINVAL))
                }
            });
        }
        cmd.status().is_ok()
    };
    let addr = map.as_ptr() as usize;
    assert!(child_sees(addr, 0));
    assert_eq!(map.as_slice()[0], 42);
    map.advise(Advice::KeepOnFork).unwrap();
    assert!(child_sees(addr, 42));
    // WIPEONFORK is for private anonymous memory only.
    let shared = Mmap::<u8>::anonymous(page(), ReadWrite).unwrap();
    // SAFETY: the call fails; nothing changes.
    let err = unsafe { shared.unchecked_advise(UncheckedAdvice::WipeOnFork) }.unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EINVAL));
}

// ---- Populate -------------------------------------------------------------

/// `MAP_POPULATE` at map time and `MADV_POPULATE_WRITE` on demand both make
/// every page resident (smaps `Rss`), where a plain mapping has none.
/// (Shared anonymous mappings: each is its own object, so the kernel never
/// merges it with a neighbour and smaps shows exactly its pages.)
#[test]
fn populate_at_map_time_and_on_demand_makes_pages_resident() {
    let len = 64 * page();
    let plain = Mmap::<u8>::anonymous(len, ReadWrite).unwrap();
    assert_eq!(smaps(plain.as_ptr() as usize).fields["Rss"], 0);
    plain.advise(Advice::PopulateWrite).unwrap();
    assert_eq!(smaps(plain.as_ptr() as usize).fields["Rss"], len as u64);

    let populated = Mmap::<u8>::options()
        .len(len)
        .populate(true)
        .map_anonymous(ReadWrite)
        .unwrap();
    assert_eq!(smaps(populated.as_ptr() as usize).fields["Rss"], len as u64);
    let read = Mmap::<u8>::anonymous(len, ReadOnly).unwrap();
    read.advise_range(Advice::PopulateRead, page(), 1).unwrap();
    assert_eq!(smaps(read.as_ptr() as usize).fields["Rss"], page() as u64);

    // On a shared segment the pages are allocated in the segment.
    let shm = Shm::create_unique("memseg-test-populate-", len as u64).unwrap();
    let map = SharedMmap::<u8>::create(&shm, ReadWrite).unwrap();
    map.advise_range(Advice::PopulateWrite, 0, len / 2).unwrap();
    assert_eq!(smaps(map.as_ptr() as usize).fields["Rss"], len as u64 / 2);
}

/// `MADV_POPULATE_WRITE` on a read-only mapping is the kernel's `EINVAL`;
/// `MADV_POPULATE_READ` works there.
#[test]
fn populate_write_on_a_read_only_mapping_is_einval() {
    let map = Mmap::<u8>::anonymous(4 * page(), ReadOnly).unwrap();
    let err = map.advise(Advice::PopulateWrite).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EINVAL));
    map.advise(Advice::PopulateRead).unwrap();
}

// ---- Protection -------------------------------------------------------------

/// After `into_read_only` a store by a forked child dies with SIGSEGV while
/// the parent survives and keeps its data; after `into_read_write` the
/// child's store goes through and the (shared) parent sees it.
#[test]
fn read_only_mapping_kills_a_writing_child_with_sigsegv() {
    let mut map = Mmap::<u64>::anonymous(page(), ReadWrite).unwrap();
    *map.object_mut() = 1;
    let ro = map.into_read_only().unwrap();
    assert_eq!(smaps(ro.as_ptr() as usize).perms, "r--s");
    let child_writes = |addr: usize| {
        let mut cmd = Command::new("true");
        // SAFETY: runs in the forked child before exec: one volatile store
        // (async-signal-safe) into memory the child inherited.
        unsafe {
            cmd.pre_exec(move || {
                std::ptr::write_volatile(addr as *mut u64, 2);
                Ok(())
            });
        }
        cmd.status().unwrap()
    };
    let status = child_writes(ro.as_ptr() as usize);
    assert_eq!(status.signal(), Some(11), "{:?}", status); // SIGSEGV
    assert_eq!(*ro.object(), 1);

    let rw = ro.into_read_write().unwrap();
    assert_eq!(smaps(rw.as_ptr() as usize).perms, "rw-s");
    let status = child_writes(rw.as_ptr() as usize);
    assert!(status.success(), "{:?}", status);
    assert_eq!(*rw.object(), 2);
}

/// A failed change hands the mapping back, still typed and usable, with
/// the kernel's errno; `?` turns the error into an `io::Error`.
#[test]
fn failed_protection_change_returns_the_mapping() {
    let shm = Shm::create_unique("memseg-test-prot-", page() as u64).unwrap();
    shm.file().set_len(page() as u64).unwrap();
    let ro_fd = ShmOptions::new()
        .read(true)
        .open(shm.name().as_str())
        .unwrap();
    // SAFETY: the segment is private to this test.
    let map = unsafe { Mmap::<u8>::create(&ro_fd, ReadOnly).unwrap() };
    let err = map.into_read_write().unwrap_err();
    assert_eq!(err.error().raw_os_error(), Some(EACCES));
    let (map, io) = err.into_parts();
    assert_eq!(io.kind(), ErrorKind::PermissionDenied);
    assert_eq!(map.as_slice()[0], 0);
    assert_eq!(smaps(map.as_ptr() as usize).perms, "r--s");
    let via_question_mark = || -> std::io::Result<()> {
        map.into_read_write()?;
        Ok(())
    };
    assert_eq!(
        via_question_mark().unwrap_err().raw_os_error(),
        Some(EACCES)
    );

    // A private mapping of the same read-only descriptor may become
    // writable: stores go to private copies.
    // SAFETY: as above.
    let private = unsafe {
        Mmap::<u8>::options()
            .private(true)
            .map(&ro_fd, ReadOnly)
            .unwrap()
    };
    let mut rw = private.into_read_write().unwrap();
    rw.as_mut_slice()[0] = 9;
    let mut byte = [0u8];
    std::os::unix::fs::FileExt::read_at(shm.file(), &mut byte, 0).unwrap();
    assert_eq!(byte, [0]);
}

/// Executable memory, via every mapping type; never writable at once.
#[test]
fn into_read_exec_makes_the_pages_executable() {
    let map = private_anon(page());
    let rx: Mmap<u8, ReadExec> = map.into_read_exec().unwrap();
    assert_eq!(smaps(rx.as_ptr() as usize).perms, "r-xp");
    assert_eq!(rx.as_slice()[0], 0);
    let shm = Shm::create_unique("memseg-test-exec-", page() as u64).unwrap();
    let shared = SharedMmap::<u8>::create(&shm, ReadWrite).unwrap();
    let shared = shared.into_read_only().unwrap();
    assert_eq!(smaps(shared.as_ptr() as usize).perms, "r--s");
    let shared = shared.into_read_write().unwrap();
    assert_eq!(smaps(shared.as_ptr() as usize).perms, "rw-s");
    let f = common::temp_file(&[1; 100]);
    // SAFETY: the file is private to this test.
    let file_map = unsafe { memseg::MmapFile::create(&f, ReadWrite).unwrap() };
    let file_map = file_map.into_read_only().unwrap();
    assert_eq!(smaps(file_map.buffer().as_ptr() as usize).perms, "r--s");
    assert_eq!(file_map.buffer(), &[1; 100][..]);
}

// ---- Locking ----------------------------------------------------------------

/// `mlock`/`munlock` of the whole mapping and of a range (widened to whole
/// pages), seen in smaps `Locked`. As root there is no RLIMIT_MEMLOCK; an
/// unprivileged run may get ENOMEM/EPERM past its limit.
#[test]
fn lock_and_unlock_whole_and_ranges() {
    let map = private_anon(4 * page());
    let addr = map.as_ptr() as usize;
    match map.lock() {
        Ok(()) => {}
        Err(e) if matches!(e.raw_os_error(), Some(ENOMEM) | Some(memseg::sys::EPERM)) => {
            eprintln!("skipped: RLIMIT_MEMLOCK: {}", e);
            return;
        }
        Err(e) => panic!("{}", e),
    }
    assert_eq!(smaps(addr).fields["Locked"], 4 * page() as u64);
    map.unlock().unwrap();
    assert_eq!(smaps(addr).fields["Locked"], 0);
    map.lock_range(page() + 1, 2).unwrap(); // one page, split off as its own VMA
    assert_eq!(smaps(addr + page()).fields["Locked"], page() as u64);
    assert_eq!(smaps(addr).fields["Locked"], 0);
    map.unlock_range(page(), page()).unwrap();
    assert_eq!(smaps(addr + page()).fields["Locked"], 0);
}

/// `MAP_LOCKED` locks at map time (`lo` in VmFlags).
#[test]
fn locked_flag_locks_at_map_time() {
    let map = Mmap::<u8>::options()
        .len(2 * page())
        .locked(true)
        .map_anonymous(ReadWrite)
        .unwrap();
    assert!(smaps(map.as_ptr() as usize)
        .vm_flags
        .contains(&"lo".to_string()));
}

/// `mlock2(MLOCK_ONFAULT)`: nothing is locked until a page is touched, then
/// exactly the touched page is (unlike `lock`, which faults all in now).
#[test]
fn lock_on_fault_locks_pages_as_they_are_touched() {
    let mut map = private_anon(4 * page());
    let addr = map.as_ptr() as usize;
    match map.lock_on_fault() {
        Ok(()) => {}
        Err(e) if matches!(e.raw_os_error(), Some(ENOMEM) | Some(memseg::sys::EPERM)) => {
            eprintln!("skipped: RLIMIT_MEMLOCK: {}", e);
            return;
        }
        Err(e) => panic!("{}", e),
    }
    let s = smaps(addr);
    assert!(s.vm_flags.contains(&"lo".to_string()), "{:?}", s.vm_flags);
    assert_eq!(s.fields["Locked"], 0, "on-fault locking faulted pages in");
    map.as_mut_slice()[2 * page()] = 1;
    assert_eq!(smaps(addr).fields["Locked"], page() as u64);
    map.unlock().unwrap();
    assert!(!smaps(addr).vm_flags.contains(&"lo".to_string()));
    assert_invalid(
        map.lock_range_on_fault(page(), 3 * page() + 1).unwrap_err(),
        "outside",
    );
}

/// `mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)` locks what is mapped
/// later too, `munlockall` undoes it. In a child process: it affects the
/// whole process.
#[test]
fn lock_all_covers_future_mappings_until_unlock_all() {
    const ROLE_NAME: &str = "lockall";
    if common::is_child(ROLE_NAME) {
        use memseg::{lock_all, unlock_all, MlockAllFlags};
        let flags = MlockAllFlags::CURRENT | MlockAllFlags::FUTURE | MlockAllFlags::ONFAULT;
        match lock_all(flags) {
            Ok(()) => {}
            Err(e) if matches!(e.raw_os_error(), Some(ENOMEM) | Some(memseg::sys::EPERM)) => {
                eprintln!("skipped: RLIMIT_MEMLOCK: {}", e);
                return;
            }
            Err(e) => panic!("{}", e),
        }
        let later = private_anon(2 * page());
        assert!(smaps(later.as_ptr() as usize)
            .vm_flags
            .contains(&"lo".to_string()));
        unlock_all().unwrap();
        assert!(!smaps(later.as_ptr() as usize)
            .vm_flags
            .contains(&"lo".to_string()));
        let after = private_anon(2 * page());
        assert!(!smaps(after.as_ptr() as usize)
            .vm_flags
            .contains(&"lo".to_string()));
        // An empty flag set is EINVAL from the kernel.
        let err = lock_all(MlockAllFlags::empty()).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(EINVAL));
        return;
    }
    common::assert_child_ok(&common::run_child(
        "lock_all_covers_future_mappings_until_unlock_all",
        ROLE_NAME,
        &[],
    ));
}

/// `MAP_GROWSDOWN` reaches the kernel (`gd` in VmFlags); `MAP_32BIT` places
/// the mapping below 2 GiB on x86_64.
#[test]
fn grows_down_and_32bit_flags_reach_the_kernel() {
    let map = Mmap::<u8>::options()
        .len(4 * page())
        .private(true)
        .grows_down(true)
        .map_anonymous(ReadWrite)
        .unwrap();
    assert!(smaps(map.as_ptr() as usize)
        .vm_flags
        .contains(&"gd".to_string()));
    #[cfg(target_arch = "x86_64")]
    {
        let low = Mmap::<u64>::options()
            .len(page())
            .map_32bit(true)
            .map_anonymous(ReadWrite)
            .unwrap();
        let addr = low.as_ptr() as usize;
        assert!(addr < 1 << 31, "MAP_32BIT mapping at {:#x}", addr);
    }
}

// ---- Huge pages and other flags -------------------------------------------

/// Explicit huge pages: with an empty pool (`nr_hugepages` = 0, the default
/// and this machine's) mapping fails with a clear `ENOMEM`, not a crash;
/// with free pages the mapping works and its length is rounded to the huge
/// page size. A size without a pool is `EINVAL`.
#[test]
fn explicit_huge_pages_map_or_fail_with_enomem() {
    let size = match HugePageSize::DEFAULT.bytes() {
        Ok(size) => size,
        Err(e) => {
            eprintln!("skipped: no hugetlbfs: {}", e);
            return;
        }
    };
    let free = HugePageSize::DEFAULT.free_pages().unwrap();
    let result = Mmap::<u8>::options()
        .len(page())
        .private(true)
        .huge_pages(HugePageSize::DEFAULT)
        .map_anonymous(ReadWrite);
    if free == 0 {
        let err = result.unwrap_err();
        assert_eq!(err.raw_os_error(), Some(ENOMEM));
        assert_eq!(err.kind(), ErrorKind::OutOfMemory);
    } else {
        let mut map = result.unwrap();
        let addr = map.as_ptr() as usize;
        assert_eq!(addr % size, 0);
        map.as_mut_slice()[0] = 1;
        let s = smaps(addr);
        assert_eq!(s.fields["KernelPageSize"], size as u64);
        drop(map);
        // Unmapped in whole huge pages: nothing is left at the address.
        assert!(!std::fs::read_to_string("/proc/self/maps")
            .unwrap()
            .lines()
            .any(|l| l.starts_with(&format!("{:x}-", addr))));
    }
    // x86_64 has no 32 MiB pages; other machines may lack one of these two.
    let missing = [HugePageSize::SIZE_32MB, HugePageSize::SIZE_16MB]
        .into_iter()
        .find(|s| s.free_pages().is_err());
    if let Some(missing) = missing {
        let err = Mmap::<u8>::options()
            .len(page())
            .private(true)
            .huge_pages(missing)
            .map_anonymous(ReadWrite)
            .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(EINVAL), "{:?}", missing);
    }
    // No reservation would turn a short pool into SIGBUS: rejected.
    let err = Mmap::<u8>::options()
        .len(page())
        .huge_pages(HugePageSize::DEFAULT)
        .no_reserve(true)
        .map_anonymous(ReadWrite)
        .unwrap_err();
    assert_invalid(err, "no_reserve");
}

/// `MAP_NORESERVE` (`nr`) and `MAP_STACK` (no THP: `nh`, Linux 5.7+) reach
/// the kernel.
#[test]
fn no_reserve_and_stack_flags_reach_the_kernel() {
    let map = Mmap::<u8>::options()
        .len(64 << 20)
        .private(true)
        .no_reserve(true)
        .map_anonymous(ReadWrite)
        .unwrap();
    assert!(smaps(map.as_ptr() as usize)
        .vm_flags
        .contains(&"nr".to_string()));
    let stack = Mmap::<u8>::options()
        .len(4 * page())
        .private(true)
        .stack(true)
        .nonblock(true)
        .map_anonymous(ReadWrite)
        .unwrap();
    if Path::new("/sys/kernel/mm/transparent_hugepage").exists() {
        assert!(smaps(stack.as_ptr() as usize)
            .vm_flags
            .contains(&"nh".to_string()));
    }
}

/// `MAP_FIXED_NOREPLACE`: `EEXIST` over an existing mapping (which stays
/// intact), the exact address when it is free.
#[test]
fn fixed_noreplace_never_replaces() {
    let mut taken = private_anon(2 * page());
    taken.as_mut_slice()[0] = 5;
    let addr = taken.as_ptr() as usize;
    let err = Mmap::<u8>::options()
        .len(page())
        .fixed_noreplace_at(addr + page())
        .map_anonymous(ReadWrite)
        .unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EEXIST));
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert_eq!(taken.as_slice()[0], 5);
    // Free a range, then claim it. Another test thread may map something
    // into the hole in between (then EEXIST is the right answer), so try
    // again with a fresh hole a few times.
    for attempt in 0.. {
        let hole = private_anon(2 * page()).as_ptr() as usize; // dropped: a hole
        match Mmap::<u8>::options()
            .len(2 * page())
            .fixed_noreplace_at(hole)
            .map_anonymous(ReadWrite)
        {
            Ok(map) => {
                assert_eq!(map.as_ptr() as usize, hole);
                break;
            }
            Err(e) if e.raw_os_error() == Some(EEXIST) && attempt < 50 => {}
            Err(e) => panic!("{}", e),
        }
    }
    // Not page-aligned: the kernel's EINVAL.
    let err = Mmap::<u8>::options()
        .len(page())
        .fixed_noreplace_at(addr + 1)
        .map_anonymous(ReadWrite)
        .unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EINVAL));
}

/// `MAP_SYNC` is validated, never silently ignored: `EOPNOTSUPP` on tmpfs,
/// and rejected for private or anonymous mappings.
#[test]
fn map_sync_is_validated() {
    let shm = Shm::create_unique("memseg-test-sync-", page() as u64).unwrap();
    // SAFETY: the mapping is never made.
    let err = unsafe { Mmap::<u8>::options().map_sync(true).map(&shm, ReadWrite) }.unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EOPNOTSUPP));
    // SAFETY: as above.
    let err = unsafe {
        Mmap::<u8>::options()
            .map_sync(true)
            .private(true)
            .map(&shm, ReadWrite)
    }
    .unwrap_err();
    assert_invalid(err, "map_sync");
    let err = Mmap::<u8>::options()
        .len(page())
        .map_sync(true)
        .map_anonymous(ReadWrite)
        .unwrap_err();
    assert_invalid(err, "map_sync");
}
