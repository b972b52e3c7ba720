//! Helpers shared by the integration tests: re-running the test binary as a
//! child process, and counting descriptors and mappings.
#![allow(dead_code)]

use std::env;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// The environment variable that tells a re-run test binary which role to play.
pub const ROLE: &str = "MEMSEG_TEST_ROLE";
/// The environment variable that carries a child's one argument.
pub const ARG: &str = "MEMSEG_TEST_ARG";

/// The role this process plays, if it is a re-run child.
pub fn role() -> Option<String> {
    env::var(ROLE).ok()
}

/// Whether this process is the child playing `role`.
pub fn is_child(role: &str) -> bool {
    env::var(ROLE).map_or(false, |r| r == role)
}

/// A child's argument (panics outside a child).
pub fn arg() -> String {
    env::var(ARG).expect("a child test process gets its argument in MEMSEG_TEST_ARG")
}

/// The arguments that make a re-run of this binary run only `test`, even if
/// it is `#[ignore]`d (so an ignored test's child still runs its part).
pub fn child_args(test: &str) -> [&str; 5] {
    [
        test,
        "--exact",
        "--nocapture",
        "--test-threads=1",
        "--include-ignored",
    ]
}

/// The environment of a child: its role, its argument, and AddressSanitizer
/// told to leave SIGBUS to the program (some children are expected to die
/// of it; the option is ignored without ASan).
pub fn child_env(role: &str, arg: &str) -> Vec<(String, String)> {
    let asan = match env::var("ASAN_OPTIONS") {
        Ok(o) if !o.is_empty() => format!("{}:handle_sigbus=0", o),
        _ => "handle_sigbus=0".to_string(),
    };
    vec![
        (ROLE.to_string(), role.to_string()),
        (ARG.to_string(), arg.to_string()),
        ("ASAN_OPTIONS".to_string(), asan),
    ]
}

/// This test binary, set up to run only `test` as `role` with `arg`, its
/// output piped.
pub fn child_command(test: &str, role: &str, arg: &str) -> Command {
    let mut cmd = Command::new(env::current_exe().expect("current_exe"));
    cmd.args(child_args(test))
        .envs(child_env(role, arg))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Re-runs this test binary, running only `test` as `role` with the extra
/// environment, and returns its output.
pub fn run_child(test: &str, role: &str, envs: &[(&str, String)]) -> Output {
    let mut cmd = child_command(test, role, "");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("spawn child test process")
}

/// Where glibc keeps the shared-memory object `name` (with or without its
/// leading slash).
pub fn dev_shm(name: &str) -> PathBuf {
    PathBuf::from("/dev/shm").join(name.trim_start_matches('/'))
}

/// Removes an entry a test planted (a file, link, FIFO or directory) even
/// if an assertion fails first.
pub struct Planted(pub PathBuf);

impl Drop for Planted {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
        let _ = fs::remove_dir(&self.0);
    }
}

/// Panics with the child's output unless it exited successfully after
/// running exactly one test (a misspelt `--exact` name would otherwise run
/// nothing and "succeed").
pub fn assert_child_ok(out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "child failed: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The number of open descriptors of this process (the directory handle
/// `read_dir` itself holds is counted every time, so it cancels out).
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

/// The number of mappings of this process.
pub fn map_count() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .expect("/proc/self/maps")
        .lines()
        .count()
}

/// How many mappings of this process map the file with inode `ino` (the
/// fifth column of `/proc/self/maps`).
pub fn mappings_of_inode(ino: u64) -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .expect("/proc/self/maps")
        .lines()
        .filter(|l| l.split_whitespace().nth(4) == Some(&ino.to_string()))
        .count()
}

/// Whether some mapping of this process starts at `addr`.
pub fn is_mapped(addr: usize) -> bool {
    let prefix = format!("{:x}-", addr);
    std::fs::read_to_string("/proc/self/maps")
        .expect("/proc/self/maps")
        .lines()
        .any(|l| l.starts_with(&prefix) || l.starts_with(&format!("{:08x}-", addr)))
}

/// A unique name for a file or segment of this test run.
pub fn unique(tag: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "memseg-test-{}-{}-{}",
        tag,
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A new file in the temp dir holding `data`, opened read-write; the path
/// is removed right away (the descriptor keeps the file alive).
pub fn temp_file(data: &[u8]) -> std::fs::File {
    use std::io::Write;
    let path = env::temp_dir().join(unique("file"));
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .expect("create temp file");
    std::fs::remove_file(&path).expect("unlink temp file");
    f.write_all(data).expect("write temp file");
    f
}

/// Asserts that `err` is memseg's own `InvalidInput` refusal (no OS error
/// code) and that its message names `rule`.
pub fn assert_invalid(err: std::io::Error, rule: &str) {
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{}", err);
    assert_eq!(err.raw_os_error(), None, "{}", err);
    let msg = err.to_string();
    assert!(
        msg.contains(rule),
        "message {:?} does not name the rule {:?}",
        msg,
        rule
    );
}

/// The page size.
pub fn page() -> usize {
    memseg::raw::page_size()
}
