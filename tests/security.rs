//! Security under attack: segments are 0600 whatever the umask, exclusive creation stays exclusive when 8 processes race for the same names, symbolic links and FIFOs planted at a segment's name are never followed or waited on, and names that try to escape `/dev/shm` never reach a system call (proved with strace).
//!
//! Children are this test binary run again (`--exact <test>`) with
//! `MEMSEG_TEST_ROLE` saying what to do (`tests/common`). Every name carries this
//! process's id, so parallel runs never meet.
#![cfg(target_os = "linux")]

mod common;

use common::{arg, child_command, dev_shm, fd_count, role, Planted, ARG, ROLE};

use memseg::sys::{EEXIST, ENOENT};
use memseg::{shm_unlink, SharedMmap, Shm, ShmName, ShmOptions};
use std::env;
use std::fs;
use std::io::{self, ErrorKind};
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};

use std::process::{Child, Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// `ELOOP` on every Linux architecture memseg supports (not in
/// `memseg::sys`: memseg itself never tests for it).
const ELOOP: i32 = 40;

fn unique(tag: &str) -> String {
    format!("memseg-sec-{}-{}", std::process::id(), tag)
}

fn assert_child_ok(out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "child failed: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn assert_errno<T>(result: io::Result<T>, errno: i32, what: &str) {
    match result {
        Ok(_) => panic!("{}: succeeded, expected errno {}", what, errno),
        Err(e) => assert_eq!(e.raw_os_error(), Some(errno), "{}: {:?}", what, e),
    }
}

/// Refused by memseg itself: `InvalidInput` and no OS error code.
fn assert_refused<T>(result: io::Result<T>, what: &str) {
    match result {
        Ok(_) => panic!("{}: accepted", what),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{}: {:?}", what, e);
            assert_eq!(e.raw_os_error(), None, "{}: reached the OS: {:?}", what, e);
        }
    }
}

/// The `Umask:` line of /proc/self/status (Linux 4.7+), if there is one.
fn current_umask() -> Option<u32> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Umask:"))?;
    u32::from_str_radix(line.split_whitespace().nth(1)?, 8).ok()
}

// ------------------------------------------------------------------ mode 0600

#[test]
#[cfg_attr(miri, ignore)] // processes and shm_open
fn segments_are_0600_even_under_umask_000() {
    const TEST: &str = "segments_are_0600_even_under_umask_000";
    if role().as_deref() == Some("umask") {
        return child_umask();
    }
    // The child runs with umask 000, so only memseg's own mode keeps group
    // and others out.
    let out = Command::new("sh")
        .arg("-c")
        .arg("umask 000 && exec \"$0\" \"$@\"")
        .arg(env::current_exe().unwrap())
        .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, "umask")
        .env(ARG, unique("mode"))
        .output()
        .unwrap();
    assert_child_ok(&out);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(i) = line.find("mode:") {
            eprintln!("{}", &line[i..]);
        }
    }
}

fn child_umask() {
    let base = arg();
    if let Some(mask) = current_umask() {
        assert_eq!(mask, 0, "the child should run with umask 000");
    }
    let uid = fs::metadata("/proc/self").unwrap().uid();
    let check = |name: &str, file: &fs::File, expected: u32| {
        let by_fd = file.metadata().unwrap();
        let by_path = fs::metadata(dev_shm(name)).unwrap();
        assert_eq!(by_fd.mode() & 0o7777, expected, "{} (fstat)", name);
        assert_eq!(by_path.mode() & 0o7777, expected, "{} (stat)", name);
        assert_eq!(by_path.uid(), uid, "{}: owner", name);
        println!("mode: {} is {:o}", name, by_path.mode() & 0o7777);
    };

    let a = Shm::create_new(format!("{}-create-new", base), 4096).unwrap();
    check(a.name().as_str(), a.file(), 0o600);
    let b = Shm::create_unique(&format!("{}-unique-", base), 4096).unwrap();
    check(b.name().as_str(), b.file(), 0o600);
    let name = format!("{}-options-new", base);
    let c = ShmOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&name)
        .unwrap();
    check(&name, &c, 0o600);
    shm_unlink(&name).unwrap();
    let name = format!("{}-options-create", base);
    let d = ShmOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .open(&name)
        .unwrap();
    check(&name, &d, 0o600);
    shm_unlink(&name).unwrap();
    // Control: an explicit 0666 really is 0666 here, so the umask is 000
    // and the 0600 above comes from memseg.
    let name = format!("{}-explicit", base);
    let e = ShmOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o666)
        .open(&name)
        .unwrap();
    check(&name, &e, 0o666);
    shm_unlink(&name).unwrap();
}

// ------------------------------------------------------------ exclusivity

const RACERS: usize = 8;
const RACE_NAMES: usize = 1000;

#[test]
#[cfg_attr(miri, ignore)] // processes and shm_open
fn exclusive_creation_has_exactly_one_winner_per_name_among_8_processes() {
    const TEST: &str = "exclusive_creation_has_exactly_one_winner_per_name_among_8_processes";
    if role().as_deref() == Some("race") {
        return child_race();
    }
    // The scoreboard: a start line, then one win counter per name.
    let board = Shm::create_unique("memseg-sec-board-", 4 * (RACE_NAMES as u64 + 1)).unwrap();
    let wins =
        SharedMmap::<[AtomicU32; RACE_NAMES + 1]>::create(&board, memseg::ReadWrite).unwrap();
    let prefix = unique("race");
    let children: Vec<Child> = (0..RACERS)
        .map(|i| {
            child_command(TEST, "race", &format!("{} {} {}", board.name(), prefix, i))
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        assert_child_ok(&child.wait_with_output().unwrap());
    }
    let mut winners = vec![0usize; RACERS];
    for i in 0..RACE_NAMES {
        let name = format!("{}-{}", prefix, i);
        assert_eq!(
            wins.atomic()[i + 1].load(Ordering::SeqCst),
            1,
            "{}: winners",
            name
        );
        // The winner's mark survived every loser's attempt.
        let shm = Shm::open(&name).unwrap();
        assert_eq!(shm.len(), 4096, "{} was resized by a loser", name);
        let mut mark = [0u8; 1];
        shm.file().read_exact_at(&mut mark, 0).unwrap();
        assert!((mark[0] as usize) < RACERS, "{}: mark {}", name, mark[0]);
        winners[mark[0] as usize] += 1;
        shm.unlink().unwrap();
    }
    eprintln!(
        "race: wins per process over {} names: {:?}",
        RACE_NAMES, winners
    );
}

fn child_race() {
    let arg = arg();
    let mut parts = arg.split(' ');
    let (board, prefix, me) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap().parse::<u8>().unwrap(),
    );
    let board = Shm::open(board).unwrap();
    let wins =
        SharedMmap::<[AtomicU32; RACE_NAMES + 1]>::create(&board, memseg::ReadWrite).unwrap();
    let wins = wins.atomic();
    wins[0].fetch_add(1, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(120);
    while wins[0].load(Ordering::SeqCst) < RACERS as u32 {
        assert!(Instant::now() < deadline, "the other racers never started");
        std::thread::yield_now();
    }
    for i in 0..RACE_NAMES {
        let name = format!("{}-{}", prefix, i);
        // Alternate the two exclusive entry points.
        let created = if i % 2 == 0 {
            Shm::create_new(&name, 4096).map(|mut shm| {
                shm.keep();
                shm.into_file()
            })
        } else {
            ShmOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&name)
                .and_then(|f| f.set_len(4096).map(|()| f))
        };
        match created {
            Ok(file) => {
                file.write_all_at(&[me], 0).unwrap();
                wins[i + 1].fetch_add(1, Ordering::SeqCst);
            }
            Err(e) => assert_eq!(e.raw_os_error(), Some(EEXIST), "{}: {:?}", name, e),
        }
    }
}

#[test]
#[cfg_attr(miri, ignore)] // shm_open
fn a_squatter_precreating_the_name_gets_eexist_not_a_victim() {
    // Someone else created the name first, world-writable, with contents.
    let name = unique("squat");
    let squat = ShmOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o666)
        .open(&name)
        .unwrap();
    let _planted = Planted(dev_shm(&name));
    fs::set_permissions(dev_shm(&name), fs::Permissions::from_mode(0o666)).unwrap();
    squat.write_all_at(b"squatter", 0).unwrap();

    assert_errno(Shm::create_new(&name, 4096), EEXIST, "create_new");
    assert_errno(
        ShmOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&name),
        EEXIST,
        "ShmOptions::create_new",
    );
    // Nothing about the squatter's object changed, and the failed creators
    // did not unlink it either.
    let meta = fs::metadata(dev_shm(&name)).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o666);
    assert_eq!(meta.len(), 8);
    let mut buf = [0u8; 8];
    squat.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(&buf, b"squatter");
}

// ------------------------------------------------------- planted symlinks

#[test]
#[cfg_attr(miri, ignore)] // shm_open
fn a_symlink_planted_at_the_name_is_never_followed_out_of_dev_shm() {
    // A file the attacker wants the victim to open, truncate or overwrite.
    let target = env::temp_dir().join(unique("symlink-target"));
    fs::write(&target, b"precious").unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
    let _target_guard = Planted(target.clone());
    let name = unique("symlink");
    std::os::unix::fs::symlink(&target, dev_shm(&name)).unwrap();
    let _link = Planted(dev_shm(&name));

    assert_errno(Shm::open(&name), ELOOP, "open");
    assert_errno(Shm::open_read_only(&name), ELOOP, "open_read_only");
    assert_errno(ShmOptions::new().read(true).open(&name), ELOOP, "read");
    assert_errno(
        ShmOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&name),
        ELOOP,
        "create + truncate",
    );
    assert_errno(Shm::create_new(&name, 4096), EEXIST, "create_new");
    assert_eq!(fs::read(&target).unwrap(), b"precious");
    assert_eq!(fs::metadata(&target).unwrap().mode() & 0o7777, 0o644);
    // shm_unlink removes the link, never the file it points to.
    shm_unlink(&name).unwrap();
    assert!(fs::symlink_metadata(dev_shm(&name)).is_err());
    assert_eq!(fs::read(&target).unwrap(), b"precious");
}

#[test]
#[cfg_attr(miri, ignore)] // shm_open
fn a_dangling_symlink_never_makes_memseg_create_its_target() {
    // O_CREAT without O_NOFOLLOW would create the link's target, wherever
    // the attacker pointed it.
    let target = env::temp_dir().join(unique("dangling-target"));
    let _ = fs::remove_file(&target);
    let _target_guard = Planted(target.clone());
    let name = unique("dangling");
    std::os::unix::fs::symlink(&target, dev_shm(&name)).unwrap();
    let _link = Planted(dev_shm(&name));

    assert_errno(
        ShmOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .open(&name),
        ELOOP,
        "create",
    );
    assert_errno(Shm::create_new(&name, 4096), EEXIST, "create_new");
    assert_errno(
        ShmOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&name),
        EEXIST,
        "ShmOptions::create_new",
    );
    assert_errno(Shm::open(&name), ELOOP, "open");
    assert!(!target.exists(), "memseg created the symlink's target");
}

#[test]
#[cfg_attr(miri, ignore)] // processes and shm_open
fn a_fifo_planted_at_the_name_is_refused_without_blocking() {
    const TEST: &str = "a_fifo_planted_at_the_name_is_refused_without_blocking";
    if role().as_deref() == Some("fifo") {
        return child_fifo();
    }
    let name = unique("fifo");
    let status = Command::new("mkfifo").arg(dev_shm(&name)).status();
    if !matches!(status, Ok(s) if s.success()) {
        eprintln!("skipped: mkfifo is not available: {:?}", status);
        return;
    }
    let _planted = Planted(dev_shm(&name));
    // /dev/shm is world-writable: any local user can plant a FIFO where a
    // victim expects a segment. Opening one read-only blocks until a writer
    // appears, so the open runs in a child that is given 10 seconds.
    let mut child = child_command(TEST, "fifo", &name).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "opening a planted FIFO blocked for 10 s (a denial of service)\nstdout:\n{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_child_ok(&child.wait_with_output().unwrap());
}

fn child_fifo() {
    let name = arg();
    let not_shm = |r: io::Result<()>, what: &str| {
        let e = r.expect_err(what);
        assert_eq!(e.kind(), ErrorKind::InvalidData, "{}: {:?}", what, e);
    };
    not_shm(Shm::open(&name).map(drop), "open");
    println!("open (read-write): refused");
    not_shm(Shm::open_read_only(&name).map(drop), "open_read_only");
    not_shm(
        ShmOptions::new().read(true).open(&name).map(drop),
        "ShmOptions read",
    );
    println!("open (read-only): refused");
}

// ------------------------------------------------------ names that escape

/// Names that would reach outside `/dev/shm` or into a subdirectory of it,
/// or that the C library would mangle. Each carries `marker` where it has
/// room for one, so a trace of the system calls can be searched for it.
fn escaping_names(marker: &str) -> Vec<String> {
    vec![
        "..".into(),
        "/..".into(),
        ".".into(),
        "/.".into(),
        "".into(),
        "/".into(),
        "//".into(),
        format!("../{}", marker),
        format!("/../{}", marker),
        format!("{}/..", marker),
        format!("{}/x", marker),
        format!("/{}/x", marker),
        format!("//{}", marker),
        format!("../../../tmp/{}", marker),
        format!("{}\0x", marker),
        format!("{}{}", marker, "x".repeat(300)),
    ]
}

#[test]
#[cfg_attr(miri, ignore)] // processes
fn escaping_names_never_reach_a_system_call() {
    const TEST: &str = "escaping_names_never_reach_a_system_call";
    if role().as_deref() == Some("escape") {
        return child_escape();
    }
    let marker = unique("escape");
    // First, without tracing: every entry point refuses every name itself.
    let out = child_command(TEST, "escape", &marker).output().unwrap();
    assert_child_ok(&out);

    // Then the proof: the same child under strace, every call that takes a
    // path recorded. The control name (created by the child after the
    // escaping ones) must show up, so the trace is known to see shm_open.
    let trace = env::temp_dir().join(format!("{}.strace", marker));
    let exe = env::current_exe().unwrap();
    let traced = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=%file", "-o"])
        .arg(&trace)
        .arg(&exe)
        .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, "escape")
        .env(ARG, &marker)
        // LeakSanitizer (under ASan) ptraces the process at exit, which it
        // cannot do while strace does: no leak check in the traced run.
        .env(
            "ASAN_OPTIONS",
            match env::var("ASAN_OPTIONS") {
                Ok(o) if !o.is_empty() => format!("{}:detect_leaks=0", o),
                _ => "detect_leaks=0".to_string(),
            },
        )
        .output();
    let traced = match traced {
        Ok(out) => out,
        Err(e) => {
            eprintln!(
                "strace proof skipped: cannot run strace ({}); install it to get it",
                e
            );
            return;
        }
    };
    let log = fs::read_to_string(&trace).unwrap_or_default();
    let _ = fs::remove_file(&trace);
    if !traced.status.success() && log.is_empty() {
        eprintln!(
            "strace proof skipped: strace cannot trace here: {}",
            String::from_utf8_lossy(&traced.stderr)
        );
        return;
    }
    assert_child_ok(&traced);
    let control = format!("{}-control", marker);
    assert!(
        log.lines()
            .any(|l| l.contains(&format!("/dev/shm/{}", control))),
        "the trace does not show the control segment's shm_open:\n{}",
        log
    );
    let mut reached = Vec::new();
    for line in log.lines() {
        let escaped = (line.contains(&marker) && !line.contains(&control))
            || ["/dev/shm/..\"", "/dev/shm/.\"", "/dev/shm/\"", "/dev/\""]
                .iter()
                .any(|p| line.contains(p));
        if escaped {
            reached.push(line);
        }
    }
    assert!(
        reached.is_empty(),
        "escaping names reached the kernel:\n{}",
        reached.join("\n")
    );
    eprintln!(
        "strace: {} path calls traced, the control segment among them, no escaping name",
        log.lines().count()
    );
}

/// The refusals alone, in this process: no system call is made for any of
/// them, so this one also runs under Miri.
#[test]
fn escaping_names_are_refused_by_every_entry_point() {
    for name in escaping_names("memseg-sec-escape-in-process") {
        let what = |call: &str| format!("{}({:?})", call, name);
        assert_refused(ShmName::new(&name), &what("ShmName::new"));
        assert_refused(name.parse::<ShmName>(), &what("str::parse"));
        assert_refused(
            Shm::create_new(name.as_str(), 4096),
            &what("Shm::create_new"),
        );
        assert_refused(Shm::open(name.as_str()), &what("Shm::open"));
        assert_refused(
            Shm::open_read_only(name.as_str()),
            &what("Shm::open_read_only"),
        );
        assert_refused(shm_unlink(name.as_str()), &what("shm_unlink"));
        assert_refused(
            ShmOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .open(name.as_str()),
            &what("ShmOptions::open"),
        );
    }
    // Names that look odd but stay inside /dev/shm are accepted.
    for ok in ["..a", "a..", "...", ".a", "a.", "-", "a b", "\\"] {
        assert_eq!(ShmName::new(ok).unwrap().as_str(), format!("/{}", ok));
    }
}

fn child_escape() {
    let marker = arg();
    let fds = fd_count();
    for name in escaping_names(&marker) {
        let what = |call: &str| format!("{}({:?})", call, name);
        assert_refused(ShmName::new(&name), &what("ShmName::new"));
        assert_refused(
            Shm::create_new(name.as_str(), 4096),
            &what("Shm::create_new"),
        );
        assert_refused(Shm::open(name.as_str()), &what("Shm::open"));
        assert_refused(
            Shm::open_read_only(name.as_str()),
            &what("Shm::open_read_only"),
        );
        assert_refused(shm_unlink(name.as_str()), &what("shm_unlink"));
        for options in [
            ShmOptions::new().read(true).clone(),
            ShmOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .clone(),
            ShmOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .clone(),
        ] {
            assert_refused(options.open(name.as_str()), &what("ShmOptions::open"));
        }
        // As a prefix of a random name: only a slash at the start is allowed.
        if name.trim_start_matches('/').contains('/') || name.contains('\0') || name.len() > 250 {
            assert_refused(Shm::create_unique(&name, 4096), &what("Shm::create_unique"));
        }
    }
    assert_eq!(fd_count(), fds, "a descriptor was opened");
    let left: Vec<_> = fs::read_dir("/dev/shm")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(&marker))
        .collect();
    assert!(left.is_empty(), "created: {:?}", left);
    // The control: a valid name, after the escaping ones.
    let control = Shm::create_new(format!("{}-control", marker), 4096).unwrap();
    drop(control);
    assert_errno(
        Shm::open(format!("{}-control", marker)),
        ENOENT,
        "control after drop",
    );
}
