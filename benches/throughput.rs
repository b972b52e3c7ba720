//! `cargo bench`: what mapping costs, measured against `read(2)`, against
//! memory already in the process, and against the same system calls made
//! directly through `memseg::raw`; each case prints its baselines and the
//! ratios in the same run. `cargo test --benches` runs every case once, on
//! small sizes. The harness (libtest's format, no dependencies) is in
//! `harness/mod.rs`; the cases, sizes and environment variables are
//! described in `benches/RESULTS.md`.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod harness;

use harness::{
    bench, check_sum, group, human, pattern, pattern_sum, size_label, smaps_kb, sum_bytes,
    sys_value, timed, touch_read, touch_write, Config, GroupSpec, Harness, TempDir,
};
use memseg::raw::{self, MapFlags, OFlags, ProtFlags};
use memseg::{Advice, Mmap, MmapFile, ReadOnly, ReadWrite, SharedMmap, Shm};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::io::AsFd;
use std::process::{self, Child, Command, Stdio};
use std::ptr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

fn main() {
    if let Ok(role) = std::env::var(ROLE) {
        process::exit(child_main(&role));
    }
    let harness = Harness::from_env(false);
    let cfg = harness.config().clone();
    let groups = vec![
        map_file_4k(),
        read_seq(&cfg),
        fault_anon(&cfg),
        shm_lifecycle(&cfg, 4096),
        shm_lifecycle(&cfg, cfg.mid),
        msync_dirty(&cfg, 4096),
        msync_dirty(&cfg, cfg.mid),
        ipc_pingpong(),
    ];
    process::exit(harness.run(groups));
}

/// The bytes a [`Config`] size stands for in this run: the size itself
/// when measuring, small in test mode.
fn actual(cfg: &Config, configured: usize) -> usize {
    if configured == cfg.mid {
        cfg.mid_bytes()
    } else if configured == cfg.big {
        cfg.big_bytes()
    } else {
        configured
    }
}

/// Minor page faults of this process so far (`/proc/self/stat` field 10),
/// to show where a mapping's time goes. 0 where there is no procfs.
fn minor_faults() -> u64 {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) may contain spaces; count from after it.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    rest.split_whitespace()
        .nth(7)
        .and_then(|f| f.parse().ok())
        .unwrap_or(0)
}

/// A one-line account, per benchmark, of what its first measured pass did:
/// page faults, huge pages. Filled by the routines, printed as notes.
type Probes = RefCell<BTreeMap<&'static str, String>>;

fn probe_once(probes: &Probes, name: &'static str, text: impl FnOnce() -> String) {
    let mut p = probes.borrow_mut();
    if !p.contains_key(name) {
        let text = text();
        p.insert(name, text);
    }
}

fn print_probes(g: &mut harness::Group<'_>, probes: Probes) {
    for (name, text) in probes.into_inner() {
        g.note(&format!("{}: {}", name, text));
    }
}

// ---------------------------------------------------------------------------
// 1. map/file_4k

/// `MmapFile::create` + touch + drop of a 4 KiB file, against `fstat` +
/// `mmap` + touch + `munmap` through `memseg::raw`: the façade's overhead.
fn map_file_4k() -> GroupSpec<'static> {
    group("map/file_4k", &["memseg", "raw"], |g| {
        let dir = TempDir::new("map")?;
        let file = dir.file("4k", 4096)?;
        let page = raw::page_size();
        let want = touch_read(&pattern(0, 4096), page);
        g.measure(vec![
            bench("memseg", 4096, |iters| {
                timed(iters, || {
                    // SAFETY: the file is private to this benchmark; nothing
                    // changes or truncates it while it is mapped.
                    let map = unsafe { MmapFile::create(&file, ReadOnly)? };
                    check_sum(touch_read(map.buffer(), page), want)
                })
            }),
            bench("raw", 4096, |iters| {
                timed(iters, || {
                    // The same calls MmapFile makes: fstat (statx) for the
                    // size, mmap, and munmap.
                    let len = file.metadata()?.len() as usize;
                    // SAFETY: no MAP_FIXED, so the kernel picks free
                    // addresses and nothing that exists is replaced.
                    let base = unsafe {
                        raw::mmap(
                            ptr::null_mut(),
                            len,
                            ProtFlags::READ,
                            MapFlags::SHARED,
                            Some(file.as_fd()),
                            0,
                        )?
                    };
                    // SAFETY: base..base+len is our new readable mapping of
                    // a file nobody changes; the slice is dropped before
                    // munmap.
                    let bytes =
                        unsafe { std::slice::from_raw_parts(base.as_ptr() as *const u8, len) };
                    let sum = touch_read(bytes, page);
                    // SAFETY: we own the mapping and `bytes` is no longer used.
                    unsafe { raw::munmap(base.as_ptr(), len)? };
                    check_sum(sum, want)
                })
            }),
        ]);
        g.ratio(&["memseg"], "raw", Some(0.97));
        Ok(())
    })
}

// ---------------------------------------------------------------------------
// 2. read/seq_1g

const READ_MODES: [&str; 4] = ["mmap", "mmap_populate", "mmap_sequential", "mmap_hugepage"];

/// `MADV_HUGEPAGE`: transparent huge pages, which only Linux has.
#[cfg(target_os = "linux")]
const HUGEPAGE: Option<Advice> = Some(Advice::HugePage);
#[cfg(not(target_os = "linux"))]
const HUGEPAGE: Option<Advice> = None;

/// `read(2)` into `buf` until the end of the file, summing each chunk.
fn read_sum(mut file: &File, buf: &mut [u8]) -> io::Result<u64> {
    let mut sum = 0;
    loop {
        let n = file.read(buf)?;
        if n == 0 {
            return Ok(sum);
        }
        sum += sum_bytes(&buf[..n]);
    }
}

/// Sums every byte of a page-cached file through a mapping (four ways),
/// through `read(2)` into a 1 MiB buffer, and in memory the process already
/// has (the limit: no faults, no copies).
fn read_seq(cfg: &Config) -> GroupSpec<'static> {
    let len = cfg.big_bytes();
    let names = [
        READ_MODES[0],
        READ_MODES[1],
        READ_MODES[2],
        READ_MODES[3],
        "read",
        "limit",
    ];
    group(
        format!("read/seq_{}", size_label(cfg.big)),
        &names,
        move |g| {
            let page = raw::page_size();
            let dir = TempDir::new("read")?;
            let mut file = dir.file("big", len)?;
            file.sync_all()?;
            let want = pattern_sum(len);
            // Page-cache it: one full read before anything is timed.
            let mut buf = vec![0u8; 1 << 20];
            file.seek(SeekFrom::Start(0))?;
            check_sum(read_sum(&file, &mut buf)?, want)?;
            let limit = if g.selected("limit") {
                let mut v = Vec::with_capacity(len);
                file.seek(SeekFrom::Start(0))?;
                (&file).read_to_end(&mut v)?;
                v
            } else {
                Vec::new()
            };
            let probes = Probes::default();
            let map_pass = |name: &'static str,
                            populate: bool,
                            advice: Option<Advice>|
             -> io::Result<Duration> {
                let faults = minor_faults();
                let start = Instant::now();
                // SAFETY: the file is private to this benchmark; nothing changes
                // or truncates it while it is mapped.
                let map = unsafe {
                    Mmap::<u8>::options()
                        .populate(populate)
                        .map(&file, ReadOnly)?
                };
                if let Some(advice) = advice {
                    map.advise(advice)?;
                }
                let sum = sum_bytes(map.as_slice());
                let took = start.elapsed();
                let faults = minor_faults() - faults;
                probe_once(&probes, name, || {
                    let huge = smaps_kb(map.as_ptr() as usize, "FilePmdMapped");
                    format!(
                        "{} page faults per pass ({} bytes each){}",
                        faults,
                        len as u64 / faults.max(1),
                        huge.map_or(String::new(), |kb| format!(", FilePmdMapped {} kB", kb))
                    )
                });
                drop(map); // munmap: not what is measured
                check_sum(sum, want)?;
                Ok(took)
            };
            let passes = |populate, advice, name| {
                move |iters: u64| {
                    let mut total = Duration::from_secs(0);
                    for _ in 0..iters {
                        total += map_pass(name, populate, advice)?;
                    }
                    Ok(total)
                }
            };
            let file_ref = &file;
            if HUGEPAGE.is_none() {
                g.ignore("mmap_hugepage", "no transparent huge pages on this OS");
            }
            g.measure(vec![
                bench("mmap", len as u64, passes(false, None, "mmap")),
                bench(
                    "mmap_populate",
                    len as u64,
                    passes(true, None, "mmap_populate"),
                ),
                bench(
                    "mmap_sequential",
                    len as u64,
                    passes(false, Some(Advice::Sequential), "mmap_sequential"),
                ),
                bench(
                    "mmap_hugepage",
                    len as u64,
                    passes(false, HUGEPAGE, "mmap_hugepage"),
                ),
                bench("read", len as u64, move |iters| {
                    let mut total = Duration::from_secs(0);
                    for _ in 0..iters {
                        let mut f = file_ref;
                        f.seek(SeekFrom::Start(0))?;
                        let start = Instant::now();
                        let sum = read_sum(file_ref, &mut buf)?;
                        total += start.elapsed();
                        check_sum(sum, want)?;
                    }
                    Ok(total)
                }),
                bench("limit", len as u64, |iters| {
                    timed(iters, || {
                        check_sum(sum_bytes(harness::black_box(&limit[..])), want)
                    })
                }),
            ]);
            for mode in READ_MODES {
                g.ratio(&[mode], "limit", None);
            }
            g.ratio(&["read"], "limit", None);
            g.ratio(&READ_MODES, "read", None);
            g.ratio(&READ_MODES, "limit", Some(0.97));
            g.note(&format!(
                "file of {} on {}, page {} B; transparent_hugepage/enabled: {}",
                human(len),
                dir.path().display(),
                page,
                sys_value("/sys/kernel/mm/transparent_hugepage/enabled").unwrap_or_default()
            ));
            print_probes(g, probes);
            Ok(())
        },
    )
}

// ---------------------------------------------------------------------------
// 3. fault/anon_1g

/// First touch (one store per page) of every page of a fresh anonymous
/// private mapping: plain, `MAP_POPULATE`, `MADV_HUGEPAGE`; against the same
/// stores into memory already faulted in (the limit).
fn fault_anon(cfg: &Config) -> GroupSpec<'static> {
    let len = cfg.big_bytes();
    group(
        format!("fault/anon_{}", size_label(cfg.big)),
        &["plain", "populate", "hugepage", "limit"],
        move |g| {
            let page = raw::page_size();
            let probes = Probes::default();
            let pass = |name: &'static str,
                        populate: bool,
                        huge: Option<Advice>|
             -> io::Result<Duration> {
                let faults = minor_faults();
                let start = Instant::now();
                let mut map = Mmap::<u8>::options()
                    .len(len)
                    .private(true)
                    .populate(populate)
                    .map_anonymous(ReadWrite)?;
                if let Some(advice) = huge {
                    map.advise(advice)?;
                }
                touch_write(map.as_mut_slice(), page);
                let took = start.elapsed();
                let faults = minor_faults() - faults;
                probe_once(&probes, name, || {
                    let huge = smaps_kb(map.as_ptr() as usize, "AnonHugePages");
                    format!(
                        "{} page faults per pass{}",
                        faults,
                        huge.map_or(String::new(), |kb| format!(", AnonHugePages {} kB", kb))
                    )
                });
                drop(map); // munmap: not what is measured
                Ok(took)
            };
            let passes = |name, populate, huge| {
                move |iters: u64| {
                    let mut total = Duration::from_secs(0);
                    for _ in 0..iters {
                        total += pass(name, populate, huge)?;
                    }
                    Ok(total)
                }
            };
            if HUGEPAGE.is_none() {
                g.ignore("hugepage", "no transparent huge pages on this OS");
            }
            let mut limit = if g.selected("limit") {
                vec![1u8; len] // written, so every page is faulted in
            } else {
                Vec::new()
            };
            // One benchmark at a time: on a VM whose host takes back freed
            // memory, a pass is slower when the memory it gets was freed
            // long ago (RESULTS.md), so each mode gets memory its own
            // previous pass freed a moment before.
            g.measure_blocked(vec![
                bench("plain", len as u64, passes("plain", false, None)),
                bench("populate", len as u64, passes("populate", true, None)),
                bench("hugepage", len as u64, passes("hugepage", false, HUGEPAGE)),
                bench("limit", len as u64, |iters| {
                    timed(iters, || {
                        touch_write(harness::black_box(&mut limit[..]), page);
                        Ok(())
                    })
                }),
            ]);
            g.ratio(&["populate"], "plain", None);
            g.ratio(&["hugepage"], "plain", None);
            g.ratio(&["populate", "hugepage"], "plain", Some(2.5));
            g.ratio(&["limit"], "plain", None);
            g.note(&format!(
                "{} mapping, one store per {} B page; transparent_hugepage/enabled: {}, defrag: {}",
                human(len),
                page,
                sys_value("/sys/kernel/mm/transparent_hugepage/enabled").unwrap_or_default(),
                sys_value("/sys/kernel/mm/transparent_hugepage/defrag").unwrap_or_default()
            ));
            print_probes(g, probes);
            Ok(())
        },
    )
}

// ---------------------------------------------------------------------------
// 4. shm/lifecycle_{4k,64m}

/// A name for a segment made through the raw layer, unique in this run.
fn raw_shm_name() -> CString {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "/memseg-bench-raw-{}-{}",
        process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    CString::new(name).expect("no NUL in the name")
}

/// Creates a unique segment, sizes it, maps it, writes one byte per page,
/// unmaps it and removes it: with `Shm` + `Mmap`, against the calls a C
/// program would make through `memseg::raw`.
fn shm_lifecycle(cfg: &Config, configured: usize) -> GroupSpec<'static> {
    let len = actual(cfg, configured);
    group(
        format!("shm/lifecycle_{}", size_label(configured)),
        &["memseg", "raw"],
        move |g| {
            let page = raw::page_size();
            g.measure(vec![
                bench("memseg", len as u64, |iters| {
                    timed(iters, || {
                        let shm = Shm::create_unique("memseg-bench-", len as u64)?;
                        // SAFETY: the segment has a fresh random name that
                        // only this process knows.
                        let mut map = unsafe { Mmap::<u8>::create(&shm, ReadWrite)? };
                        touch_write(map.as_mut_slice(), page);
                        drop(map);
                        drop(shm); // closes and unlinks
                        Ok(())
                    })
                }),
                bench("raw", len as u64, |iters| {
                    timed(iters, || {
                        let name = raw_shm_name();
                        let flags = OFlags::RDWR | OFlags::CREAT | OFlags::EXCL | OFlags::CLOEXEC;
                        let fd = raw::shm_open(&name, flags, 0o600)?;
                        // What Shm does to size it: reserve the space (Linux,
                        // FreeBSD), or ftruncate where there is no fallocate.
                        #[cfg(any(target_os = "linux", target_os = "freebsd"))]
                        raw::posix_fallocate(fd.as_fd(), 0, len as u64)?;
                        #[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
                        let fd = {
                            let file = File::from(fd);
                            file.set_len(len as u64)?;
                            file
                        };
                        // SAFETY: no MAP_FIXED: nothing that exists is
                        // replaced.
                        let base = unsafe {
                            raw::mmap(
                                ptr::null_mut(),
                                len,
                                ProtFlags::READ | ProtFlags::WRITE,
                                MapFlags::SHARED,
                                Some(fd.as_fd()),
                                0,
                            )?
                        };
                        // SAFETY: our new writable mapping of len bytes of a
                        // segment only this process knows; the slice is
                        // dropped before munmap.
                        let bytes = unsafe {
                            std::slice::from_raw_parts_mut(base.as_ptr() as *mut u8, len)
                        };
                        touch_write(bytes, page);
                        // SAFETY: we own the mapping and `bytes` is no longer used.
                        unsafe { raw::munmap(base.as_ptr(), len)? };
                        drop(fd);
                        raw::shm_unlink(&name)
                    })
                }),
            ]);
            g.ratio(&["memseg"], "raw", None);
            Ok(())
        },
    )
}

// ---------------------------------------------------------------------------
// 5. msync/dirty_{4k,64m}

/// Flushing the dirty pages of a shared mapping with `msync(MS_SYNC)`: of a
/// file on disk, against `fdatasync(2)` of the same file, and of a segment
/// in `/dev/shm`. Dirtying (one store per page, which after a flush
/// includes the write-protect fault) is not timed.
fn msync_dirty(cfg: &Config, configured: usize) -> GroupSpec<'static> {
    let len = actual(cfg, configured);
    group(
        format!("msync/dirty_{}", size_label(configured)),
        &["file", "fdatasync", "shm"],
        move |g| {
            let page = raw::page_size();
            let dir = TempDir::new("msync")?;
            let file = dir.file("dirty", len)?;
            file.sync_all()?;
            // SAFETY: the file is private to this benchmark; nothing else
            // changes or truncates it while it is mapped.
            let fmap = RefCell::new(unsafe { Mmap::<u8>::create(&file, ReadWrite)? });
            let shm = Shm::create_unique("memseg-bench-", len as u64)?;
            // SAFETY: the segment has a fresh random name only this process
            // knows.
            let mut smap = unsafe { Mmap::<u8>::create(&shm, ReadWrite)? };
            let flush =
                |map: &mut Mmap<u8>, iters: u64, how: &dyn Fn(&Mmap<u8>) -> io::Result<()>| {
                    let mut total = Duration::from_secs(0);
                    for _ in 0..iters {
                        touch_write(map.as_mut_slice(), page);
                        let start = Instant::now();
                        how(map)?;
                        total += start.elapsed();
                    }
                    Ok(total)
                };
            g.measure(vec![
                bench("file", len as u64, |iters| {
                    flush(&mut fmap.borrow_mut(), iters, &|m| m.msync())
                }),
                bench("fdatasync", len as u64, |iters| {
                    flush(&mut fmap.borrow_mut(), iters, &|_| file.sync_data())
                }),
                bench("shm", len as u64, |iters| {
                    flush(&mut smap, iters, &|m| m.msync())
                }),
            ]);
            g.ratio(&["file"], "fdatasync", None);
            g.ratio(&["shm"], "file", None);
            g.note(&format!(
                "file on {}, segment in /dev/shm",
                dir.path().display()
            ));
            Ok(())
        },
    )
}

// ---------------------------------------------------------------------------
// 6. ipc/pingpong

/// The environment variable that makes this binary a benchmark's child.
const ROLE: &str = "MEMSEG_BENCH_ROLE";
/// The segment the pingpong child opens.
const SHM_NAME: &str = "MEMSEG_BENCH_SHM";
/// Values of the ping and pong cells besides round-trip numbers.
const READY: u64 = u64::MAX - 1;
const STOP: u64 = u64::MAX;
/// Cells: ping at 0, pong at 8, so they sit on different cache lines.
type Cells = [AtomicU64; 16];

/// Spins until `done()`; spins, then yields, then sleeps, so an idle waiter
/// leaves the CPU to others. Returns false as soon as `alive()` is false.
fn wait_until(mut done: impl FnMut() -> bool, mut alive: impl FnMut() -> bool) -> bool {
    let mut tries = 0u64;
    loop {
        if done() {
            return true;
        }
        tries += 1;
        if tries < 1 << 10 {
            std::hint::spin_loop();
        } else if tries < 1 << 14 {
            thread::yield_now();
        } else {
            if tries % 256 == 0 && !alive() {
                return false;
            }
            thread::sleep(Duration::from_micros(50));
        }
    }
}

fn child_main(role: &str) -> i32 {
    let result = match role {
        "pingpong" => pingpong_child(),
        "echo" => echo_child(),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unknown role {}", role),
        )),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("benchmark child ({}): {}", role, e);
            1
        }
    }
}

/// Answers every ping with the same number until `STOP`, or until the
/// parent is gone.
fn pingpong_child() -> io::Result<()> {
    let name =
        std::env::var(SHM_NAME).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let shm = Shm::open(name.as_str())?;
    let map = SharedMmap::<Cells>::create(&shm, ReadWrite)?;
    let (ping, pong) = (&map.atomic()[0], &map.atomic()[8]);
    let parent = std::os::unix::process::parent_id();
    let parent_alive = || std::os::unix::process::parent_id() == parent;
    pong.store(READY, Ordering::Release);
    let mut last = 0;
    loop {
        if !wait_until(|| ping.load(Ordering::Acquire) != last, parent_alive) {
            return Ok(());
        }
        last = ping.load(Ordering::Acquire);
        if last == STOP {
            return Ok(());
        }
        pong.store(last, Ordering::Release);
    }
}

/// Writes back every byte it reads on stdin, until end of file.
fn echo_child() -> io::Result<()> {
    let mut input = File::from(io::stdin().as_fd().try_clone_to_owned()?);
    let mut output = File::from(io::stdout().as_fd().try_clone_to_owned()?);
    let mut byte = [0u8; 1];
    while input.read(&mut byte)? == 1 {
        output.write_all(&byte)?;
    }
    Ok(())
}

fn spawn_child(role: &str, envs: &[(&str, &str)], piped: bool) -> io::Result<Child> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.env(ROLE, role).stderr(Stdio::inherit());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    if piped {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    } else {
        cmd.stdin(Stdio::null()).stdout(Stdio::null());
    }
    cmd.spawn()
}

fn child_died(child: &mut Child) -> io::Error {
    let status = child.try_wait().ok().flatten();
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        format!("the benchmark child stopped: {:?}", status),
    )
}

/// Round trips between this process and a child (this binary, re-run):
/// through two atomics in a shared segment, against one byte each way
/// through a pair of pipes.
fn ipc_pingpong() -> GroupSpec<'static> {
    group("ipc/pingpong", &["shm", "pipe"], |g| {
        if g.selected("shm") {
            let shm = Shm::create_unique("memseg-bench-", 4096)?;
            let map = SharedMmap::<Cells>::create(&shm, ReadWrite)?;
            let (ping, pong) = (&map.atomic()[0], &map.atomic()[8]);
            let mut child = spawn_child("pingpong", &[(SHM_NAME, shm.name().as_str())], false)?;
            let started = Instant::now();
            let ready = {
                let child = RefCell::new(&mut child);
                wait_until(
                    || pong.load(Ordering::Acquire) == READY,
                    || {
                        started.elapsed() < Duration::from_secs(30)
                            && matches!(child.borrow_mut().try_wait(), Ok(None))
                    },
                )
            };
            if !ready {
                return Err(child_died(&mut child));
            }
            shm.unlink()?; // both ends have it open; the name is no longer needed
            let mut next = 0u64;
            let alive = RefCell::new(true);
            g.measure(vec![bench("shm", 0, |iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    next += 1;
                    ping.store(next, Ordering::Release);
                    let answered = wait_until(
                        || pong.load(Ordering::Acquire) == next,
                        || start.elapsed() < Duration::from_secs(30),
                    );
                    if !answered {
                        *alive.borrow_mut() = false;
                        return Err(io::Error::new(io::ErrorKind::TimedOut, "no pong for 30 s"));
                    }
                }
                Ok(start.elapsed())
            })]);
            ping.store(STOP, Ordering::Release);
            if !*alive.borrow() {
                let _ = child.kill();
            }
            child.wait()?;
        }
        if g.selected("pipe") {
            let mut child = spawn_child("echo", &[], true)?;
            let mut to = child.stdin.take().expect("piped stdin");
            let mut from = child.stdout.take().expect("piped stdout");
            let mut byte = [0u8; 1];
            g.measure(vec![bench("pipe", 0, |iters| {
                timed(iters, || {
                    byte[0] = byte[0].wrapping_add(1);
                    let sent = byte[0];
                    to.write_all(&byte)?;
                    from.read_exact(&mut byte)?;
                    check_sum(u64::from(byte[0]), u64::from(sent))
                })
            })]);
            drop(to); // end of file: the child exits
            child.wait()?;
        }
        g.ratio(&["shm"], "pipe", None);
        Ok(())
    })
}
