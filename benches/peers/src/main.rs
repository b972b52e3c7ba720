//! memseg against memmap2, side by side in one process: cases 1-3 of
//! `benches/throughput.rs` (mapping a 4 KiB file, summing a page-cached
//! file through a mapping, first-touching anonymous memory), each mode run
//! on both crates round-robin, with a `memseg/memmap2` throughput ratio per
//! mode.
//!
//! `cargo run --release --manifest-path benches/peers/Cargo.toml` measures
//! (the same environment variables as `cargo bench`); add `-- --test` to run
//! each benchmark once, small. The output is libtest's bench format.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

#[path = "../../harness/mod.rs"]
mod harness;

use harness::{
    bench, check_sum, group, pattern, pattern_sum, size_label, sum_bytes, timed, touch_read,
    touch_write, Config, GroupSpec, Harness, TempDir,
};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::process;
use std::time::{Duration, Instant};

fn main() {
    let harness = Harness::from_env(true);
    let cfg = harness.config().clone();
    let groups = vec![map_file_4k(), read_seq(&cfg), fault_anon(&cfg)];
    process::exit(harness.run(groups));
}

/// How a mapping is made in a mode: plain, pre-faulted, or with
/// transparent huge pages asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum How {
    Plain,
    Populate,
    HugePage,
}

/// The modes, as (memseg bench, memmap2 bench, how).
const MODES: [(&str, &str, How); 3] = [
    ("memseg", "memmap2", How::Plain),
    ("memseg_populate", "memmap2_populate", How::Populate),
    ("memseg_hugepage", "memmap2_hugepage", How::HugePage),
];
const NAMES: [&str; 6] = [
    "memseg",
    "memmap2",
    "memseg_populate",
    "memmap2_populate",
    "memseg_hugepage",
    "memmap2_hugepage",
];

/// `MADV_HUGEPAGE` through either crate's `advise`, which only Linux has.
#[cfg(target_os = "linux")]
fn memseg_hugepage<P: memseg::Protection>(map: &memseg::Mmap<u8, P>) -> io::Result<()> {
    map.advise(memseg::Advice::HugePage)
}

#[cfg(not(target_os = "linux"))]
fn memseg_hugepage<P: memseg::Protection>(_: &memseg::Mmap<u8, P>) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no transparent huge pages",
    ))
}

#[cfg(target_os = "linux")]
fn memmap2_hugepage(advise: impl FnOnce(memmap2::Advice) -> io::Result<()>) -> io::Result<()> {
    advise(memmap2::Advice::HugePage)
}

#[cfg(not(target_os = "linux"))]
fn memmap2_hugepage(_: impl FnOnce(memmap2::Advice) -> io::Result<()>) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no transparent huge pages",
    ))
}

/// Measures every mode's memseg/memmap2 pair round-robin, so each crate's
/// pass follows the other crate's pass of the same mode (and the memory it
/// freed: see measure_blocked in the harness), then prints each mode's
/// `memseg/memmap2` ratio.
fn measure_modes<'a, A, B>(
    g: &mut harness::Group<'_>,
    len: usize,
    ours: impl Fn(How) -> A,
    theirs: impl Fn(How) -> B,
) where
    A: FnMut(u64) -> io::Result<Duration> + 'a,
    B: FnMut(u64) -> io::Result<Duration> + 'a,
{
    for (a, b, how) in MODES {
        g.measure(vec![
            bench(a, len as u64, ours(how)),
            bench(b, len as u64, theirs(how)),
        ]);
    }
    for (a, b, _) in MODES {
        g.ratio(&[a], b, None);
    }
}

/// Runs `pass` `iters` times and adds up how long each takes to make and
/// use a mapping. What a pass returns, the mapping and a result, is dropped
/// (`munmap`) and handed to `check` after the clock stops: neither is timed.
fn timed_passes<M, R>(
    iters: u64,
    mut pass: impl FnMut() -> io::Result<(M, R)>,
    mut check: impl FnMut(R) -> io::Result<()>,
) -> io::Result<Duration> {
    let mut total = Duration::from_secs(0);
    for _ in 0..iters {
        let start = Instant::now();
        let (map, result) = pass()?;
        total += start.elapsed();
        drop(map);
        check(result)?;
    }
    Ok(total)
}

/// Case 1: map a 4 KiB file, read a byte of each page, unmap.
fn map_file_4k() -> GroupSpec<'static> {
    group("map/file_4k", &["memseg", "memmap2"], |g| {
        let dir = TempDir::new("peers-map")?;
        let file = dir.file("4k", 4096)?;
        let page = memseg::raw::page_size();
        let want = touch_read(&pattern(0, 4096), page);
        g.measure(vec![
            bench("memseg", 4096, |iters| {
                timed(iters, || {
                    // SAFETY: the file is private to this benchmark; nothing
                    // changes or truncates it while it is mapped.
                    let map = unsafe { memseg::MmapFile::create(&file, memseg::ReadOnly)? };
                    check_sum(touch_read(map.buffer(), page), want)
                })
            }),
            bench("memmap2", 4096, |iters| {
                timed(iters, || {
                    // SAFETY: as above.
                    let map = unsafe { memmap2::Mmap::map(&file)? };
                    check_sum(touch_read(&map, page), want)
                })
            }),
        ]);
        g.ratio(&["memseg"], "memmap2", None);
        Ok(())
    })
}

/// Case 2: sum every byte of a page-cached file through a mapping. The
/// timed region is map + advise + sum; `munmap` is not timed.
fn read_seq(cfg: &Config) -> GroupSpec<'static> {
    let len = cfg.big_bytes();
    group(
        format!("read/seq_{}", size_label(cfg.big)),
        &NAMES,
        move |g| {
            let dir = TempDir::new("peers-read")?;
            let mut file = dir.file("big", len)?;
            file.sync_all()?;
            let want = pattern_sum(len);
            // Page-cache it before anything is timed.
            file.seek(SeekFrom::Start(0))?;
            let mut sink = Vec::with_capacity(len);
            file.read_to_end(&mut sink)?;
            check_sum(sum_bytes(&sink), want)?;
            drop(sink);
            let ours = |how: How| {
                let file = &file;
                move |iters: u64| {
                    let pass = || {
                        // SAFETY: the file is private to this benchmark.
                        let map = unsafe {
                            memseg::Mmap::<u8>::options()
                                .populate(how == How::Populate)
                                .map(file, memseg::ReadOnly)?
                        };
                        if how == How::HugePage {
                            memseg_hugepage(&map)?;
                        }
                        let sum = sum_bytes(map.as_slice());
                        Ok((map, sum))
                    };
                    timed_passes(iters, pass, |sum| check_sum(sum, want))
                }
            };
            let theirs = |how: How| {
                let file: &File = &file;
                move |iters: u64| {
                    let pass = || {
                        let mut options = memmap2::MmapOptions::new();
                        if how == How::Populate {
                            options.populate();
                        }
                        // SAFETY: the file is private to this benchmark.
                        let map = unsafe { options.map(file)? };
                        if how == How::HugePage {
                            memmap2_hugepage(|a| map.advise(a))?;
                        }
                        let sum = sum_bytes(&map);
                        Ok((map, sum))
                    };
                    timed_passes(iters, pass, |sum| check_sum(sum, want))
                }
            };
            measure_modes(g, len, ours, theirs);
            Ok(())
        },
    )
}

/// Case 3: first touch (one store per page) of a fresh anonymous private
/// mapping; map + advise + touch are timed, `munmap` is not.
fn fault_anon(cfg: &Config) -> GroupSpec<'static> {
    let len = cfg.big_bytes();
    group(
        format!("fault/anon_{}", size_label(cfg.big)),
        &NAMES,
        move |g| {
            let page = memseg::raw::page_size();
            let ours = |how: How| {
                move |iters: u64| {
                    let pass = || {
                        let mut map = memseg::Mmap::<u8>::options()
                            .len(len)
                            .private(true)
                            .populate(how == How::Populate)
                            .map_anonymous(memseg::ReadWrite)?;
                        if how == How::HugePage {
                            memseg_hugepage(&map)?;
                        }
                        touch_write(map.as_mut_slice(), page);
                        Ok((map, ()))
                    };
                    timed_passes(iters, pass, |()| Ok(()))
                }
            };
            let theirs = |how: How| {
                move |iters: u64| {
                    let pass = || {
                        let mut options = memmap2::MmapOptions::new();
                        options.len(len);
                        if how == How::Populate {
                            options.populate();
                        }
                        let mut map = options.map_anon()?;
                        if how == How::HugePage {
                            memmap2_hugepage(|a| map.advise(a))?;
                        }
                        touch_write(&mut map, page);
                        Ok((map, ()))
                    };
                    timed_passes(iters, pass, |()| Ok(()))
                }
            };
            measure_modes(g, len, ours, theirs);
            Ok(())
        },
    )
}
