//! Stress across processes: 8 processes each doing 1,000,000 atomic increments on one counter in one segment (the total must be exact), and 8 processes creating, mapping and dropping segments at once (nothing may be left behind).
//!
//! The children are this test binary run again (`--exact <test>`), with
//! `MEMSEG_TEST_ROLE` saying what to do (`tests/common`), so no helper binaries are needed.
#![cfg(target_os = "linux")]

mod common;

use common::{arg, child_command, role};

use memseg::{Mmap, ReadWrite, SharedMmap, Shm};

use std::process::Child;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const PROCESSES: u64 = 8;
const INCREMENTS: u64 = 1_000_000;
/// How long the children wait for each other at the start line.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Starts this test binary again, running only `test` as `role` on the
/// segment or prefix `name`.
fn spawn(test: &str, role: &str, name: &str) -> Child {
    child_command(test, role, name)
        .spawn()
        .expect("spawn a child test process")
}

/// Waits for every child and fails with the output of any that failed or
/// did not run exactly one test.
fn wait_all(children: Vec<Child>) {
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("test result: ok. 1 passed"),
            "child failed: {:?}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Layout of the segment: the counter, then the start line.
const COUNTER: usize = 0;
const READY: usize = 1;

#[test]
#[cfg_attr(miri, ignore)] // processes and shm_open
fn eight_processes_increment_one_counter_exactly() {
    const TEST: &str = "eight_processes_increment_one_counter_exactly";
    if role().as_deref() == Some("increment") {
        return child_increment();
    }
    let shm = Shm::create_unique("memseg-stress-", 4096).unwrap();
    let counters = SharedMmap::<[AtomicU64; 2]>::create(&shm, ReadWrite).unwrap();
    let started = Instant::now();
    let children = (0..PROCESSES)
        .map(|_| spawn(TEST, "increment", shm.name().as_str()))
        .collect();
    wait_all(children);
    let total = counters.atomic()[COUNTER].load(Ordering::SeqCst);
    eprintln!(
        "stress: {} processes x {} increments = {} in {:?}",
        PROCESSES,
        INCREMENTS,
        total,
        started.elapsed()
    );
    assert_eq!(total, PROCESSES * INCREMENTS);
    assert_eq!(counters.atomic()[READY].load(Ordering::SeqCst), PROCESSES);
}

fn child_increment() {
    // Each child opens the segment by name and makes its own mapping.
    let shm = Shm::open(arg()).unwrap();
    let counters = SharedMmap::<[AtomicU64; 2]>::create(&shm, ReadWrite).unwrap();
    let [counter, ready] = counters.atomic();
    // Everyone starts together, so the increments really contend.
    ready.fetch_add(1, Ordering::SeqCst);
    let deadline = Instant::now() + START_TIMEOUT;
    while ready.load(Ordering::SeqCst) < PROCESSES {
        assert!(
            Instant::now() < deadline,
            "the other children never started"
        );
        std::thread::yield_now();
    }
    for i in 0..INCREMENTS {
        // Mix orderings: atomicity, not ordering, is what keeps the total.
        if i % 2 == 0 {
            counter.fetch_add(1, Ordering::Relaxed);
        } else {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[test]
#[cfg_attr(miri, ignore)] // processes and shm_open
fn eight_processes_churning_segments_leave_nothing_behind() {
    const TEST: &str = "eight_processes_churning_segments_leave_nothing_behind";
    if role().as_deref() == Some("churn") {
        return child_churn();
    }
    let prefix = format!("memseg-churn-{}-", std::process::id());
    let children = (0..PROCESSES)
        .map(|_| spawn(TEST, "churn", &prefix))
        .collect();
    wait_all(children);
    let left: Vec<_> = std::fs::read_dir("/dev/shm")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&prefix))
        .collect();
    assert!(left.is_empty(), "segments left behind: {:?}", left);
}

/// 500 rounds of create, map twice, write, read back through a second
/// handle opened by name, grow, and drop; the descriptor and mapping counts
/// must be the same at the end as at the start.
fn child_churn() {
    let prefix = arg();
    let fds = || std::fs::read_dir("/proc/self/fd").unwrap().count();
    // Mappings of files and shared memory (lines with a path): private
    // anonymous ones belong to malloc (or ASan's allocator) as well.
    let maps = || {
        std::fs::read_to_string("/proc/self/maps")
            .unwrap()
            .lines()
            .filter(|l| {
                l.split_whitespace()
                    .nth(5)
                    .map_or(false, |p| p.starts_with('/'))
            })
            .count()
    };
    let (fds_before, maps_before) = (fds(), maps());
    for round in 0..500u64 {
        let mut shm = Shm::create_unique(&prefix, 4096).unwrap();
        let mut writer = SharedMmap::<[u64; 4]>::create(&shm, ReadWrite).unwrap();
        writer.write([round, round + 1, round + 2, round + 3]);
        let peer = Shm::open(shm.name()).unwrap();
        // SAFETY: only this process knows the random name, and nothing
        // changes the segment while this mapping lives.
        let reader = unsafe { Mmap::<[u64; 4]>::create(&peer, ReadWrite).unwrap() };
        assert_eq!(*reader.object(), [round, round + 1, round + 2, round + 3]);
        drop(reader);
        shm.set_len_and_remap(8192, &mut writer).unwrap();
        assert_eq!(writer.len(), 8192);
        assert_eq!(writer.read()[0], round);
    }
    assert_eq!(fds(), fds_before, "descriptors leaked");
    assert_eq!(maps(), maps_before, "mappings leaked");
}
