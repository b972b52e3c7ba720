//! Faults: a writer killed with SIGKILL right after `msync` (the file holds the data), a file truncated under a live mapping (SIGBUS, shown in a child), no constructor ever mapping past the end of a file, `/dev/shm` out of space in a private tmpfs, and every failing constructor leaving no descriptor and no mapping behind.
//!
//! Children are this test binary run again (`--exact <test>`) with
//! `MEMSEG_TEST_ROLE` saying what to do (`tests/common`): a child's death by signal cannot
//! take the test harness with it, and descriptors and mappings can be
//! counted without the other tests' threads disturbing the count.

#![cfg(target_os = "linux")]

mod common;

use common::{arg, child_args, child_command, child_env, page, role};

use memseg::{Mmap, MmapFile, MsyncFlags, ReadOnly, ReadWrite, SharedMmap, Shm, ShmName};
use std::env;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, ErrorKind};
use std::os::unix::fs::FileExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Output};

/// `SIGKILL` and `SIGBUS` on x86, x86_64, arm and aarch64 Linux.
const SIGKILL: i32 = 9;
const SIGBUS: i32 = 7;

fn unique(tag: &str) -> String {
    format!("memseg-faults-{}-{}", std::process::id(), tag)
}

fn describe(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn assert_child_ok(out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "child failed: {}",
        describe(out)
    );
}

/// A temporary file holding `data`; returns it and its path (the caller
/// removes the path).
fn temp_file(tag: &str, data: &[u8]) -> (File, PathBuf) {
    let path = env::temp_dir().join(unique(tag));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    file.write_all_at(data, 0).unwrap();
    (file, path)
}

/// Removes a path when dropped.
struct Remove(PathBuf);
impl Drop for Remove {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0).or_else(|_| fs::remove_dir(&self.0));
    }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

// ------------------------------------------------------ SIGKILL after msync

#[test]
#[cfg_attr(miri, ignore)] // processes and file mappings
fn a_writer_killed_right_after_msync_leaves_its_data_in_the_file() {
    const TEST: &str = "a_writer_killed_right_after_msync_leaves_its_data_in_the_file";
    if role().as_deref() == Some("msync-writer") {
        return child_msync_writer();
    }
    // Three regions, one per mapping type, the last ending in a partial page.
    let len = 6 * page() + 100;
    let (file, path) = temp_file("msync", &vec![0u8; len]);
    let _remove = Remove(path.clone());
    let mut child = child_command(TEST, "msync-writer", path.to_str().unwrap())
        .spawn()
        .unwrap();
    // Wait until the child has msync'd, then SIGKILL it: no destructor, no
    // munmap, no exit path of any kind runs after the msync.
    let stdout = child.stdout.take().unwrap();
    let mut synced = false;
    let mut seen = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("synced") {
            synced = true;
            break;
        }
    }
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        synced,
        "the writer never synced:\n{}{}",
        seen,
        describe(&out)
    );
    assert_eq!(out.status.signal(), Some(SIGKILL), "{}", describe(&out));
    drop(file);
    let data = fs::read(&path).unwrap();
    assert_eq!(data.len(), len);
    assert_eq!(
        data,
        pattern(len, 7),
        "the file lost what the killed writer msync'd"
    );
    eprintln!(
        "{}",
        seen.lines()
            .filter_map(|l| l.find("smaps:").map(|i| &l[i..]))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn child_msync_writer() {
    let path = arg();
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    let (p, len) = (page(), file.metadata().unwrap().len() as usize);
    let want = pattern(len, 7);
    // SAFETY: the file belongs to this test and to this process alone.
    let mut whole = unsafe { MmapFile::create(&file, ReadWrite).unwrap() };
    whole.buffer_mut()[..2 * p].copy_from_slice(&want[..2 * p]);
    // SAFETY: as above; the region does not overlap the MmapFile's writes.
    let mut typed = unsafe {
        Mmap::<u8>::options()
            .offset(2 * p as u64)
            .len(2 * p)
            .map(&file, ReadWrite)
            .unwrap()
    };
    typed.as_mut_slice().copy_from_slice(&want[2 * p..4 * p]);
    let mut shared = Mmap::<u8>::options()
        .offset(4 * p as u64)
        .map_shared(&file, ReadWrite)
        .unwrap();
    shared.write_bytes(0, &want[4 * p..]).unwrap();

    let before = dirty_kib(whole.buffer().as_ptr() as usize);
    whole.msync_range(0, 2 * p, MsyncFlags::SYNC).unwrap();
    typed.msync().unwrap();
    shared.msync().unwrap();
    let after = dirty_kib(whole.buffer().as_ptr() as usize);
    match (before, after) {
        (Some(b), Some(a)) if b > 0 => {
            // msync(MS_SYNC) wrote the pages back: none is dirty any more.
            assert_eq!(a, 0, "dirty pages left after msync");
            println!("smaps: {} KiB dirty before msync, {} KiB after", b, a);
        }
        _ => println!(
            "smaps: dirtiness not visible here ({:?}, {:?})",
            before, after
        ),
    }
    println!("synced");
    // Wait for the SIGKILL; never return normally.
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

/// The dirty KiB (`Private_Dirty` + `Shared_Dirty`) of the mapping at
/// `addr`, from /proc/self/smaps.
fn dirty_kib(addr: usize) -> Option<u64> {
    let smaps = fs::read_to_string("/proc/self/smaps").ok()?;
    let mut inside = false;
    let mut dirty = None;
    for line in smaps.lines() {
        if let Some((range, _)) = line.split_once(' ') {
            if let Some((start, end)) = range.split_once('-') {
                if let (Ok(s), Ok(e)) = (
                    usize::from_str_radix(start, 16),
                    usize::from_str_radix(end, 16),
                ) {
                    inside = s <= addr && addr < e;
                    continue;
                }
            }
        }
        if inside && (line.starts_with("Private_Dirty:") || line.starts_with("Shared_Dirty:")) {
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            *dirty.get_or_insert(0) += kib;
        }
    }
    dirty
}

// --------------------------------------------------- truncation and SIGBUS

#[test]
#[cfg_attr(miri, ignore)] // processes and file mappings
fn touching_a_page_lost_to_truncation_raises_sigbus() {
    const TEST: &str = "touching_a_page_lost_to_truncation_raises_sigbus";
    if let Some(role) = role() {
        return child_truncate(&role);
    }
    for role in ["truncate-file", "truncate-segment"] {
        let out = child_command(TEST, role, &unique(role)).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("first page still readable"),
            "{}",
            describe(&out)
        );
        assert_eq!(
            out.status.signal(),
            Some(SIGBUS),
            "{}: expected death by SIGBUS: {}",
            role,
            describe(&out)
        );
        assert!(!stdout.contains("survived"), "{}", describe(&out));
    }
}

fn child_truncate(role: &str) {
    let name = arg();
    let p = page();
    match role {
        "truncate-file" => {
            // A whole-file mapping, then the file shrinks under it (by this
            // process, through its own descriptor: the unsafe contract of
            // MmapFile::create, broken on purpose).
            let (file, path) = temp_file("truncate", &vec![1u8; 2 * p]);
            fs::remove_file(path).unwrap();
            // SAFETY: deliberately broken below, in this throw-away child.
            let map = unsafe { MmapFile::create(&file, ReadOnly).unwrap() };
            file.set_len(p as u64).unwrap();
            assert_eq!(map.buffer()[p - 1], 1);
            println!("first page still readable");
            println!("survived: {}", volatile_first(&map.buffer()[p..]));
        }
        _ => {
            // The safe SharedMmap over a segment another handle shrinks: the
            // documented hazard that stays even without unsafe code.
            let shm = Shm::create_new(&name, 2 * p as u64).unwrap();
            let map = SharedMmap::<u8>::create(&shm, ReadWrite).unwrap();
            let mut other = Shm::open(&name).unwrap();
            other.set_len(p as u64).unwrap();
            let mut byte = [0u8; 1];
            map.read_bytes(p - 1, &mut byte).unwrap();
            println!("first page still readable");
            map.read_bytes(p, &mut byte).unwrap();
            println!("survived: {}", byte[0]);
        }
    }
}

/// Reads the first byte of `bytes` with a load the optimiser cannot drop.
fn volatile_first(bytes: &[u8]) -> u8 {
    assert!(!bytes.is_empty());
    // SAFETY: the pointer comes from a live, non-empty slice, so it is valid
    // for a one-byte read (the page behind it being gone is the SIGBUS this
    // child exists to show).
    unsafe { std::ptr::read_volatile(bytes.as_ptr()) }
}

// ------------------------------------------- never a mapping past the end

/// The mapping (`/proc/self/maps` line) that holds `addr`: its start, end
/// and file offset.
fn vma_of(addr: usize) -> (usize, usize, u64) {
    let maps = fs::read_to_string("/proc/self/maps").unwrap();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let range = fields.next().unwrap();
        let offset = fields.nth(1).unwrap();
        let (s, e) = range.split_once('-').unwrap();
        let (s, e) = (
            usize::from_str_radix(s, 16).unwrap(),
            usize::from_str_radix(e, 16).unwrap(),
        );
        if s <= addr && addr < e {
            return (s, e, u64::from_str_radix(offset, 16).unwrap());
        }
    }
    panic!("no mapping holds {:#x}", addr);
}

/// Checks that the mapping holding the view `ptr .. ptr + len` ends, in the
/// file, no further than the page that holds the file's last byte (pages
/// wholly past the end are the ones that raise SIGBUS), and that every byte
/// of the view reads as the file's contents.
fn assert_inside_file(what: &str, ptr: *const u8, view: &[u8], offset: u64, data: &[u8]) {
    let (start, end, pgoff) = vma_of(ptr as usize);
    let (last_start, _, _) = vma_of(ptr as usize + view.len() - 1);
    assert_eq!(start, last_start, "{}: the view spans two mappings", what);
    let size = data.len() as u64;
    let limit = (size + page() as u64 - 1) / page() as u64 * page() as u64;
    assert!(
        pgoff + (end - start) as u64 <= limit,
        "{}: mapping {:#x}-{:#x} at file offset {} reaches past the last page of a {}-byte file",
        what,
        start,
        end,
        pgoff,
        size
    );
    assert_eq!(
        view,
        &data[offset as usize..offset as usize + view.len()],
        "{}",
        what
    );
}

#[test]
#[cfg_attr(miri, ignore)] // file mappings
fn no_constructor_ever_maps_past_the_end_of_a_file() {
    let p = page();
    let sizes = [1, 100, p - 1, p, p + 1, 2 * p + 17, 3 * p];
    let mut mapped = 0;
    let mut refused = 0;
    for &size in &sizes {
        let data = pattern(size, size as u8);
        let (file, path) = temp_file("grid", &data);
        let _remove = Remove(path);
        let offsets = [
            0,
            1,
            7,
            p - 1,
            p,
            p + 1,
            size.saturating_sub(1),
            size,
            size + 1,
            2 * p,
        ];
        for &offset in &offsets {
            let rest = size.checked_sub(offset);
            let lens = [
                None,
                Some(0),
                Some(1),
                rest,
                rest.map(|r| r + 1),
                Some(p),
                Some(2 * p),
                Some(usize::MAX),
            ];
            for len in lens.iter().copied() {
                let want = match (rest, len) {
                    (Some(r), None) => r >= 1,
                    (Some(r), Some(l)) => l >= 1 && l <= r,
                    (None, _) => false,
                };
                let mut options = Mmap::<u8>::options();
                options.offset(offset as u64);
                if let Some(l) = len {
                    options.len(l);
                }
                let what = format!("size {} offset {} len {:?}", size, offset, len);
                // SAFETY: the file is private to this test and unchanged while mapped.
                let results = [
                    unsafe { options.map(&file, ReadOnly) }.map(|m| {
                        assert_inside_file(&what, m.as_ptr(), m.as_slice(), offset as u64, &data);
                    }),
                    unsafe { options.clone().private(true).map(&file, ReadWrite) }.map(|m| {
                        assert_inside_file(&what, m.as_ptr(), m.as_slice(), offset as u64, &data);
                    }),
                    options.map_shared(&file, ReadWrite).map(|m| {
                        let mut view = vec![0u8; m.len()];
                        m.read_bytes(0, &mut view).unwrap();
                        assert_inside_file(&what, m.as_ptr(), &view, offset as u64, &data);
                    }),
                ];
                for result in results {
                    match result {
                        Ok(()) => {
                            assert!(
                                want,
                                "{}: mapped, but the range is not inside the file",
                                what
                            );
                            mapped += 1;
                        }
                        Err(e) => {
                            assert!(!want, "{}: refused a range inside the file: {}", what, e);
                            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{}: {:?}", what, e);
                            refused += 1;
                        }
                    }
                }
            }
        }
        // Whole-file constructors map exactly the file.
        // SAFETY: as above.
        let whole = unsafe { MmapFile::create(&file, ReadOnly).unwrap() };
        assert_eq!(whole.size(), size);
        assert_inside_file(
            "MmapFile",
            whole.buffer().as_ptr(),
            whole.buffer(),
            0,
            &data,
        );
        let shared = SharedMmap::<u8>::create(&file, ReadOnly).unwrap();
        assert_eq!(shared.len(), size);
    }
    eprintln!(
        "grid: {} mappings checked, {} ranges refused",
        mapped, refused
    );
    assert!(mapped > 100 && refused > 100);
}

#[test]
#[cfg_attr(miri, ignore)] // file mappings
fn typed_views_larger_than_the_file_are_refused() {
    let (file, path) = temp_file("typed", &[5u8; 100]);
    let _remove = Remove(path);
    // SAFETY: the file is private to this test and unchanged while mapped.
    unsafe {
        assert_eq!(
            Mmap::<[u8; 100]>::create(&file, ReadOnly).unwrap().object(),
            &[5u8; 100]
        );
        let e = Mmap::<[u8; 101]>::create(&file, ReadOnly).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{}", e);
    }
    let e = SharedMmap::<[u8; 101]>::create(&file, ReadOnly).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{}", e);
    let e = SharedMmap::<[u64; 13]>::create(&file, ReadOnly).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{}", e);
    assert_eq!(
        SharedMmap::<[u32; 25]>::create(&file, ReadOnly)
            .unwrap()
            .count(),
        1
    );
}

#[test]
#[cfg_attr(miri, ignore)] // file mappings and mremap
fn resizing_a_mapping_never_reaches_past_the_end_of_the_file() {
    let p = page();
    let data = pattern(3 * p, 3);
    let (file, path) = temp_file("remap", &data);
    let _remove = Remove(path);
    // SAFETY: the file is private to this test and unchanged while mapped.
    let mut map = unsafe { Mmap::<u8>::options().len(p).map(&file, ReadOnly).unwrap() };
    map.remap_file(&file, 3 * p).unwrap();
    assert_inside_file("grown", map.as_ptr(), map.as_slice(), 0, &data);
    let e = map.remap_file(&file, 3 * p + 1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{}", e);
    assert_eq!(map.len(), 3 * p);
    map.remap_file(&file, p).unwrap();
    // The file shrinks (outside the mapping): growing back is refused.
    file.set_len(2 * p as u64).unwrap();
    let e = map.remap_file(&file, 3 * p).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{}", e);
    assert_inside_file(
        "after refusal",
        map.as_ptr(),
        map.as_slice(),
        0,
        &data[..2 * p],
    );

    // A segment shrunk with set_len_and_remap: the mapping shrinks first.
    let mut shm = Shm::create_unique("memseg-faults-remap-", 3 * p as u64).unwrap();
    let mut seg = SharedMmap::<u8>::create(&shm, ReadWrite).unwrap();
    shm.set_len_and_remap(p as u64 + 10, &mut seg).unwrap();
    assert_eq!(seg.len(), p + 10);
    let (start, end, pgoff) = vma_of(seg.as_ptr() as usize);
    assert!(pgoff + (end - start) as u64 <= 2 * p as u64);
    let mut all = vec![0u8; seg.len()];
    seg.read_bytes(0, &mut all).unwrap();
}

// ------------------------------------------------------------ out of space

#[test]
#[cfg_attr(miri, ignore)] // processes, mount namespaces
fn out_of_space_is_an_error_at_creation_and_leaves_nothing_behind() {
    const TEST: &str = "out_of_space_is_an_error_at_creation_and_leaves_nothing_behind";
    if role().as_deref() == Some("enospc") {
        return child_enospc();
    }
    // A private mount namespace with a 1 MiB tmpfs over /dev/shm: the real
    // /dev/shm is never touched. Needs root (CAP_SYS_ADMIN) and unshare(1).
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg("mount -t tmpfs -o size=1m memseg-faults /dev/shm && exec \"$0\" \"$@\"")
        .arg(env::current_exe().unwrap())
        .args(child_args(TEST))
        .envs(child_env("enospc", &unique("enospc")))
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: cannot run unshare: {}", e);
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !stdout.contains("running 1 test") {
        eprintln!(
            "skipped: no private tmpfs over /dev/shm here (needs root and mount namespaces): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return;
    }
    assert_child_ok(&out);
    for line in stdout.lines() {
        if let Some(i) = line.find("enospc:") {
            eprintln!("{}", &line[i..]);
        }
    }
}

fn child_enospc() {
    let base = arg();
    let entries = || fs::read_dir("/dev/shm").unwrap().count();
    assert_eq!(entries(), 0, "not in the private 1 MiB tmpfs");
    let counts = Counts::now();
    let enospc = |r: io::Result<Shm>, what: &str| match r {
        Ok(_) => panic!("{}: succeeded in a full tmpfs", what),
        Err(e) => assert_eq!(
            e.raw_os_error(),
            Some(memseg::sys::ENOSPC),
            "{}: {:?}",
            what,
            e
        ),
    };
    enospc(
        Shm::create_new(format!("{}-2m", base), 2 << 20),
        "create_new 2 MiB",
    );
    enospc(Shm::create_unique(&base, 2 << 20), "create_unique 2 MiB");
    assert_eq!(entries(), 0, "a failed creation left a name behind");
    counts.assert_same("failed creations");

    // Most of the space, reserved at creation: every page can be touched
    // (an unreserved tmpfs page would raise SIGBUS here instead).
    let mut big = Shm::create_new(format!("{}-big", base), 768 << 10).unwrap();
    let mut map = SharedMmap::<u8>::create(&big, ReadWrite).unwrap();
    for offset in (0..map.len()).step_by(page()) {
        map.write_bytes(offset, &[0xa5]).unwrap();
    }
    enospc(
        Shm::create_new(format!("{}-more", base), 512 << 10),
        "create_new past the rest",
    );
    assert_eq!(entries(), 1);
    // Growing past the space fails and changes neither the segment nor the mapping.
    let e = big.set_len_and_remap(2 << 20, &mut map).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(memseg::sys::ENOSPC), "{:?}", e);
    assert_eq!(big.len(), 768 << 10);
    assert_eq!(big.file().metadata().unwrap().len(), 768 << 10);
    assert_eq!(map.len(), 768 << 10);
    let e = big.set_len(2 << 20).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(memseg::sys::ENOSPC), "{:?}", e);
    let mut byte = [0u8; 1];
    map.read_bytes(map.len() - page(), &mut byte).unwrap();
    assert_eq!(byte[0], 0xa5);
    drop(map);
    drop(big);
    assert_eq!(entries(), 0);
    counts.assert_same("after the full segment was dropped");
    // With the space back, the same request succeeds.
    drop(Shm::create_new(format!("{}-more", base), 512 << 10).unwrap());
    println!("enospc: 2 MiB refused at creation, 768 KiB reserved and touched, growth refused, nothing left");
}

// ------------------------------------------- no descriptor, no mapping left

/// Descriptors and mappings of this process. Mappings are counted two
/// ways: the mappings of files and shared memory (lines of
/// /proc/self/maps with a path: every file, segment, memfd and shared
/// anonymous mapping memseg makes), and mapped bytes of everything but the
/// heap and stack (a leaked private anonymous mapping has no path and may
/// merge with a neighbour, but always adds bytes). Private anonymous lines
/// are not counted: malloc, and AddressSanitizer's allocator, split and
/// merge their own all the time.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
struct Counts {
    fds: usize,
    maps: usize,
    bytes: usize,
}

impl Counts {
    fn now() -> Counts {
        let fds = fs::read_dir("/proc/self/fd").unwrap().count();
        let maps = fs::read_to_string("/proc/self/maps").unwrap();
        let (mut lines, mut bytes) = (0, 0);
        for line in maps.lines() {
            let path = line.split_whitespace().nth(5).unwrap_or("");
            if path.starts_with('/') {
                lines += 1;
            }
            if path == "[heap]" || path == "[stack]" {
                continue;
            }
            let range = line.split_whitespace().next().unwrap();
            let (s, e) = range.split_once('-').unwrap();
            bytes += usize::from_str_radix(e, 16).unwrap() - usize::from_str_radix(s, 16).unwrap();
        }
        Counts {
            fds,
            maps: lines,
            bytes,
        }
    }

    /// No descriptor and no mapping more than at `self`, after `calls`
    /// calls. Descriptors must match exactly. Mappings are allowed a little
    /// noise, because the C library's malloc maps and unmaps memory of its
    /// own (musl's splits a mapping now and then): what must not happen is
    /// growth that scales with the calls, i.e. one leaked mapping (at least
    /// a page, a line unless it merged) per call.
    fn assert_no_leak(&self, what: &str, calls: usize) {
        let now = Counts::now();
        let grown_lines = now.maps.saturating_sub(self.maps);
        let grown_bytes = now.bytes.saturating_sub(self.bytes);
        assert!(
            now.fds == self.fds && grown_lines < calls && grown_bytes < calls * page(),
            "{}: a descriptor or mapping was left behind over {} calls: before {:?}, after {:?}",
            what,
            calls,
            self,
            now
        );
    }

    fn assert_same(&self, what: &str) {
        self.assert_no_leak(what, 1);
    }
}

/// What a failing call must fail with.
#[derive(Clone, Copy, Debug)]
enum Fails {
    /// Refused by memseg before any system call.
    Invalid,
    /// An OS error with this errno.
    Errno(i32),
    /// memseg's check after the system call (not a shared-memory object).
    InvalidData,
}

fn check(what: &str, result: io::Result<()>, expect: Fails) {
    let e = match result {
        Ok(()) => panic!("{}: succeeded, expected {:?}", what, expect),
        Err(e) => e,
    };
    match expect {
        Fails::Invalid => {
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{}: {:?}", what, e);
            assert_eq!(e.raw_os_error(), None, "{}: {:?}", what, e);
        }
        Fails::InvalidData => assert_eq!(e.kind(), ErrorKind::InvalidData, "{}: {:?}", what, e),
        Fails::Errno(n) => assert_eq!(e.raw_os_error(), Some(n), "{}: {:?}", what, e),
    }
}

#[test]
#[cfg_attr(miri, ignore)] // processes, /proc and real system calls
fn every_failing_constructor_leaves_no_descriptor_and_no_mapping() {
    const TEST: &str = "every_failing_constructor_leaves_no_descriptor_and_no_mapping";
    if role().as_deref() == Some("no-leaks") {
        return child_no_leaks();
    }
    let out = child_command(TEST, "no-leaks", &unique("leaks"))
        .output()
        .unwrap();
    assert_child_ok(&out);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(i) = line.find("no-leaks:") {
            eprintln!("{}", &line[i..]);
        }
    }
}

type Case<'a> = (&'a str, Fails, Box<dyn Fn() -> io::Result<()> + 'a>);

fn child_no_leaks() {
    use memseg::sys::{EACCES, EBADF, EEXIST, EINVAL, ENODEV, ENOENT, ENOMEM};
    use memseg::ShmOptions;
    const ELOOP: i32 = 40;
    // EISDIR from open(2), which glibc's shm_open reports as EINVAL.
    const DIRECTORY: i32 = if cfg!(target_env = "musl") {
        21
    } else {
        EINVAL
    };
    let base = arg();
    let p = page();

    // The things the failing calls are aimed at.
    let held = Shm::create_new(format!("{}-held", base), 4096).unwrap();
    let ro_segment = ShmOptions::new().read(true).open(held.name()).unwrap();
    let read_only_handle = Shm::open_read_only(held.name()).unwrap();
    let dir_name = format!("{}-dir", base);
    fs::create_dir(format!("/dev/shm/{}", dir_name)).unwrap();
    let _dir = Remove(format!("/dev/shm/{}", dir_name).into());
    let link_name = format!("{}-link", base);
    std::os::unix::fs::symlink(
        format!("/dev/shm/{}-held", base),
        format!("/dev/shm/{}", link_name),
    )
    .unwrap();
    let _link = Remove(format!("/dev/shm/{}", link_name).into());
    let (file, path) = temp_file("leaks", &vec![1u8; p]);
    let _file = Remove(path.clone());
    let ro_file = File::open(&path).unwrap();
    let (empty, empty_path) = temp_file("leaks-empty", &[]);
    let _empty = Remove(empty_path);
    let directory = File::open(env::temp_dir()).unwrap();
    let missing = format!("{}-missing", base);
    #[repr(C, align(65536))]
    struct OverAligned([u8; 65536]);
    // SAFETY (for every unsafe map below): the files are private to this
    // child, and every one of these calls fails before anything is mapped.
    let mut cases: Vec<Case> = vec![
        (
            "Shm::create_new(a/b)",
            Fails::Invalid,
            Box::new(|| Shm::create_new("a/b", 4096).map(drop)),
        ),
        (
            "Shm::create_new(..)",
            Fails::Invalid,
            Box::new(|| Shm::create_new("..", 4096).map(drop)),
        ),
        (
            "Shm::create_new(NUL)",
            Fails::Invalid,
            Box::new(|| Shm::create_new("a\0b", 4096).map(drop)),
        ),
        (
            "Shm::create_new(too long)",
            Fails::Invalid,
            Box::new(|| Shm::create_new("x".repeat(ShmName::MAX_LEN + 1), 4096).map(drop)),
        ),
        (
            "Shm::create_new(taken)",
            Fails::Errno(EEXIST),
            Box::new(|| Shm::create_new(held.name(), 4096).map(drop)),
        ),
        (
            "Shm::create_new(u64::MAX)",
            Fails::Invalid,
            Box::new(|| Shm::create_new(&missing, u64::MAX).map(drop)),
        ),
        (
            "Shm::create_new(symlink)",
            Fails::Errno(EEXIST),
            Box::new(|| Shm::create_new(&link_name, 4096).map(drop)),
        ),
        (
            "Shm::create_unique(a/b)",
            Fails::Invalid,
            Box::new(|| Shm::create_unique("a/b", 4096).map(drop)),
        ),
        (
            "Shm::create_unique(u64::MAX)",
            Fails::Invalid,
            Box::new(|| Shm::create_unique("x", u64::MAX).map(drop)),
        ),
        (
            "Shm::open(missing)",
            Fails::Errno(ENOENT),
            Box::new(|| Shm::open(&missing).map(drop)),
        ),
        (
            "Shm::open_read_only(missing)",
            Fails::Errno(ENOENT),
            Box::new(|| Shm::open_read_only(&missing).map(drop)),
        ),
        (
            "Shm::open(directory)",
            Fails::Errno(DIRECTORY),
            Box::new(|| Shm::open(&dir_name).map(drop)),
        ),
        (
            "Shm::open_read_only(directory)",
            Fails::InvalidData,
            Box::new(|| Shm::open_read_only(&dir_name).map(drop)),
        ),
        (
            "Shm::open(symlink)",
            Fails::Errno(ELOOP),
            Box::new(|| Shm::open(&link_name).map(drop)),
        ),
        (
            "ShmOptions::open(no access)",
            Fails::Invalid,
            Box::new(|| ShmOptions::new().open(held.name()).map(drop)),
        ),
        (
            "ShmOptions::open(create_new, taken)",
            Fails::Errno(EEXIST),
            Box::new(|| {
                ShmOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .open(held.name())
                    .map(drop)
            }),
        ),
        (
            "ShmOptions::open(mode 0o10000)",
            Fails::Invalid,
            Box::new(|| {
                ShmOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .mode(0o10000)
                    .open(&missing)
                    .map(drop)
            }),
        ),
        (
            "ShmOptions::open(read-only directory)",
            Fails::InvalidData,
            Box::new(|| ShmOptions::new().read(true).open(&dir_name).map(drop)),
        ),
        (
            "shm_unlink(missing)",
            Fails::Errno(ENOENT),
            Box::new(|| memseg::shm_unlink(&missing)),
        ),
        (
            "Shm::set_len(read-only handle)",
            Fails::Errno(EBADF),
            Box::new(|| {
                let mut h = Shm::open_read_only(held.name())?;
                h.set_len(8192)
            }),
        ),
        (
            "Mmap::anonymous(0)",
            Fails::Invalid,
            Box::new(|| Mmap::<u64>::anonymous(0, ReadWrite).map(drop)),
        ),
        (
            "Mmap::anonymous(smaller than T)",
            Fails::Invalid,
            Box::new(|| Mmap::<u64>::anonymous(4, ReadWrite).map(drop)),
        ),
        (
            "Mmap::anonymous(usize::MAX)",
            Fails::Invalid,
            Box::new(|| Mmap::<u8>::anonymous(usize::MAX, ReadWrite).map(drop)),
        ),
        (
            "Mmap::anonymous(more than the address space)",
            Fails::Errno(ENOMEM),
            Box::new(|| Mmap::<u8>::anonymous(usize::MAX - 4 * p + 1, ReadWrite).map(drop)),
        ),
        (
            "MmapOptions::map_anonymous(no len)",
            Fails::Invalid,
            Box::new(|| Mmap::<u8>::options().map_anonymous(ReadWrite).map(drop)),
        ),
        (
            "MmapOptions::map_anonymous(offset)",
            Fails::Invalid,
            Box::new(|| {
                Mmap::<u8>::options()
                    .len(p)
                    .offset(p as u64)
                    .map_anonymous(ReadWrite)
                    .map(drop)
            }),
        ),
        (
            "Mmap::<()>::anonymous",
            Fails::Invalid,
            Box::new(|| Mmap::<()>::anonymous(p, ReadWrite).map(drop)),
        ),
        (
            "Mmap::<over-aligned>::anonymous",
            Fails::Invalid,
            Box::new(|| Mmap::<OverAligned>::anonymous(1 << 17, ReadWrite).map(drop)),
        ),
        (
            "Mmap::create(file shorter than T)",
            Fails::Invalid,
            Box::new(|| unsafe { Mmap::<[u8; 8192]>::create(&file, ReadOnly) }.map(drop)),
        ),
        (
            "Mmap::create(empty file)",
            Fails::Invalid,
            Box::new(|| unsafe { Mmap::<u8>::create(&empty, ReadOnly) }.map(drop)),
        ),
        (
            "MmapOptions::map(offset past EOF)",
            Fails::Invalid,
            Box::new(|| {
                unsafe {
                    Mmap::<u8>::options()
                        .offset(2 * p as u64)
                        .map(&file, ReadOnly)
                }
                .map(drop)
            }),
        ),
        (
            "MmapOptions::map(offset + len past EOF)",
            Fails::Invalid,
            Box::new(|| {
                unsafe {
                    Mmap::<u8>::options()
                        .offset(100)
                        .len(p)
                        .map(&file, ReadOnly)
                }
                .map(drop)
            }),
        ),
        (
            "MmapOptions::map(misaligned offset)",
            Fails::Invalid,
            Box::new(|| unsafe { Mmap::<u64>::options().offset(3).map(&file, ReadOnly) }.map(drop)),
        ),
        (
            "MmapOptions::map(offset u64::MAX)",
            Fails::Invalid,
            Box::new(|| {
                unsafe {
                    Mmap::<u8>::options()
                        .offset(u64::MAX)
                        .len(1)
                        .map(&file, ReadOnly)
                }
                .map(drop)
            }),
        ),
        (
            "Mmap::create(read-write of a read-only file)",
            Fails::Errno(EACCES),
            Box::new(|| unsafe { Mmap::<u8>::create(&ro_file, ReadWrite) }.map(drop)),
        ),
        (
            "Mmap::create(read-write of a read-only segment)",
            Fails::Errno(EACCES),
            Box::new(|| unsafe { Mmap::<u8>::create(&ro_segment, ReadWrite) }.map(drop)),
        ),
        (
            "MmapFile::create(read-write of a read-only file)",
            Fails::Errno(EACCES),
            Box::new(|| unsafe { MmapFile::create(&ro_file, ReadWrite) }.map(drop)),
        ),
        (
            "SharedMmap::create(read-write of a read-only segment)",
            Fails::Errno(EACCES),
            Box::new(|| SharedMmap::<u8>::create(&read_only_handle, ReadWrite).map(drop)),
        ),
        (
            "MmapOptions::map(directory, len)",
            Fails::Errno(ENODEV),
            Box::new(|| {
                unsafe { Mmap::<u8>::options().len(p).map(&directory, ReadOnly) }.map(drop)
            }),
        ),
        (
            "MmapFile::create(directory)",
            Fails::Invalid,
            Box::new(|| unsafe { MmapFile::create(&directory, ReadOnly) }.map(drop)),
        ),
        (
            "SharedMmap::create(directory)",
            Fails::Invalid,
            Box::new(|| SharedMmap::<u8>::create(&directory, ReadOnly).map(drop)),
        ),
        (
            "SharedMmap::create(file shorter than T)",
            Fails::Invalid,
            Box::new(|| SharedMmap::<[u8; 8192]>::create(&file, ReadOnly).map(drop)),
        ),
        (
            "MmapOptions::map_shared(offset past EOF)",
            Fails::Invalid,
            Box::new(|| {
                Mmap::<u8>::options()
                    .offset(p as u64 + 1)
                    .map_shared(&file, ReadOnly)
                    .map(drop)
            }),
        ),
    ];
    #[cfg(target_os = "linux")]
    {
        use memseg::{Memfd, MemfdOptions};
        let unsealed = Memfd::new("memseg-faults").unwrap();
        unsealed.set_len(p as u64).unwrap();
        let sealed = Memfd::new("memseg-faults-sealed").unwrap();
        sealed.set_len(p as u64).unwrap();
        sealed.seal_read_only().unwrap();
        let more: Vec<Case> = vec![
            (
                "MemfdOptions::create(NUL)",
                Fails::Invalid,
                Box::new(|| MemfdOptions::new().create("a\0b").map(drop)),
            ),
            (
                "MemfdOptions::create(300-byte name)",
                Fails::Errno(EINVAL),
                Box::new(|| MemfdOptions::new().create(&"m".repeat(300)).map(drop)),
            ),
            (
                "Mmap::from_sealed(unsealed)",
                Fails::Invalid,
                Box::new(move || Mmap::<u8>::from_sealed(&unsealed).map(drop)),
            ),
            (
                "Mmap::from_sealed(regular file)",
                Fails::Errno(EINVAL),
                Box::new(|| Mmap::<u8>::from_sealed(&file).map(drop)),
            ),
            (
                "MmapFile::from_sealed(regular file)",
                Fails::Errno(EINVAL),
                Box::new(|| MmapFile::from_sealed(&file).map(drop)),
            ),
            (
                "MmapOptions::map_sealed(past EOF)",
                Fails::Invalid,
                Box::new(move || {
                    Mmap::<u8>::options()
                        .offset(p as u64)
                        .len(1)
                        .map_sealed(&sealed)
                        .map(drop)
                }),
            ),
        ];
        cases.extend(more);
    }
    // Failing operations on live mappings must not lose or duplicate them.
    let live: Vec<Case> = vec![
        (
            "Mmap::remap_file(past EOF)",
            Fails::Invalid,
            Box::new(|| {
                // SAFETY: the file is private to this child.
                let mut m = unsafe { Mmap::<u8>::create(&file, ReadOnly)? };
                m.remap_file(&file, p + 1)
            }),
        ),
        (
            "Mmap::remap(0)",
            Fails::Invalid,
            Box::new(|| {
                let mut m = Mmap::<u8>::options()
                    .len(p)
                    .private(true)
                    .map_anonymous(ReadWrite)?;
                m.remap(0)
            }),
        ),
        (
            "Mmap::remap(a file mapping)",
            Fails::Invalid,
            Box::new(|| {
                // SAFETY: the file is private to this child.
                let mut m = unsafe { Mmap::<u8>::create(&file, ReadOnly)? };
                m.remap(2 * p)
            }),
        ),
        (
            "into_read_write(read-only segment)",
            Fails::Errno(EACCES),
            Box::new(|| {
                let m = SharedMmap::<u8>::create(&read_only_handle, ReadOnly)?;
                m.into_read_write().map(drop).map_err(io::Error::from)
            }),
        ),
        (
            "Shm::set_len_and_remap(another segment's mapping)",
            Fails::Invalid,
            Box::new(|| {
                let mut other = Shm::create_unique("memseg-faults-other-", 4096)?;
                let mut m = SharedMmap::<u8>::create(&read_only_handle, ReadOnly)?;
                other.set_len_and_remap(8192, &mut m)
            }),
        ),
        (
            "msync_range(past the end)",
            Fails::Invalid,
            Box::new(|| {
                let m = Mmap::<u8>::anonymous(p, ReadWrite)?;
                m.msync_range(p - 1, 2, MsyncFlags::SYNC)
            }),
        ),
        (
            "advise_range(past the end)",
            Fails::Invalid,
            Box::new(|| {
                let m = Mmap::<u8>::anonymous(p, ReadWrite)?;
                m.advise_range(memseg::Advice::WillNeed, 1, p)
            }),
        ),
    ];
    cases.extend(live);

    // The counts must notice a shared mapping, a private anonymous one and
    // a descriptor that stay.
    let before = Counts::now();
    let kept = Mmap::<u8>::anonymous(p, ReadWrite).unwrap();
    let kept_private = Mmap::<u8>::options()
        .len(p)
        .private(true)
        .map_anonymous(ReadWrite)
        .unwrap();
    let kept_fd = File::open(&path).unwrap();
    let during = Counts::now();
    assert_eq!(during.maps, before.maps + 1);
    assert!(during.bytes >= before.bytes + 2 * p);
    assert_eq!(during.fds, before.fds + 1);
    drop((kept, kept_private, kept_fd));
    before.assert_same("sensitivity check");

    const ROUNDS: usize = 25;
    for (what, expect, call) in &cases {
        check(what, call(), *expect); // warm-up: lazily initialised state
        let counts = Counts::now();
        for _ in 0..ROUNDS {
            check(what, call(), *expect);
        }
        counts.assert_no_leak(what, ROUNDS);
    }
    println!(
        "no-leaks: {} failing calls x {} rounds, descriptors and mappings unchanged",
        cases.len(),
        ROUNDS + 1
    );
}

// ------------------------------------------ refusals Miri can execute too

/// Input memseg refuses before any system call, and the range arithmetic
/// of a private anonymous mapping (the one kind Miri can execute).
#[test]
fn refusals_and_range_checks_before_any_system_call() {
    let p = page();
    let invalid = |r: io::Result<()>, what: &str| check(what, r, Fails::Invalid);
    invalid(
        Mmap::<u64>::options()
            .len(0)
            .private(true)
            .map_anonymous(ReadWrite)
            .map(drop),
        "len 0",
    );
    invalid(
        Mmap::<u64>::options()
            .len(4)
            .private(true)
            .map_anonymous(ReadWrite)
            .map(drop),
        "len < T",
    );
    invalid(
        Mmap::<u64>::options()
            .private(true)
            .map_anonymous(ReadWrite)
            .map(drop),
        "no len",
    );
    invalid(
        Mmap::<u8>::options()
            .len(p)
            .offset(1)
            .private(true)
            .map_anonymous(ReadWrite)
            .map(drop),
        "offset",
    );
    invalid(
        Mmap::<u8>::options()
            .len(usize::MAX)
            .private(true)
            .map_anonymous(ReadWrite)
            .map(drop),
        "overflow",
    );
    invalid(
        Mmap::<()>::options()
            .len(p)
            .private(true)
            .map_anonymous(ReadWrite)
            .map(drop),
        "zero-sized",
    );
    invalid(ShmName::new("../x").map(drop), "name ../x");

    let mut map = Mmap::<u64>::options()
        .len(2 * p + 8)
        .private(true)
        .map_anonymous(ReadWrite)
        .unwrap();
    assert_eq!(map.len(), 2 * p + 8);
    assert_eq!(map.as_slice().len(), (2 * p + 8) / 8);
    map.as_mut_slice()[(2 * p + 8) / 8 - 1] = 7;
    assert_eq!(map.as_slice().iter().sum::<u64>(), 7);
    // Ranges past the end, with and without overflow, are refused before
    // msync/madvise is called.
    for (offset, len) in [
        (0, 2 * p + 9),
        (2 * p + 8, 1),
        (usize::MAX, 2),
        (1, usize::MAX),
    ] {
        invalid(
            map.msync_range(offset, len, MsyncFlags::SYNC),
            "msync_range",
        );
        invalid(
            map.advise_range(memseg::Advice::Normal, offset, len),
            "advise_range",
        );
    }
}
