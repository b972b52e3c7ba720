//! Shared-memory objects (`Shm`, `ShmOptions`, `ShmName`, `shm_unlink`) on the real `/dev/shm`: name rules, modes, exact errno values, the drop policy, a second process, descriptor leaks, out-of-space and symlink squatting.
//!
//! Every name carries this process's id, so parallel test runs never meet.
//! Tests that count descriptors or need a private mount namespace re-run this
//! test binary as a child (`--exact child_entry`), selected by the
//! `MEMSEG_SHM_CHILD` environment variable, so the other tests' threads
//! cannot disturb them.
#![cfg(target_os = "linux")]

mod common;

use common::{dev_shm, fd_count, Planted};

use memseg::sys::{EBADF, EEXIST, ENOENT, ENOSPC};
use memseg::{shm_unlink, Shm, ShmName, ShmOptions};
use std::collections::HashSet;
use std::env;
use std::fs;
use std::io::{self, ErrorKind};
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::os::unix::io::AsRawFd;

use std::process::Command;

/// `ELOOP` on Linux (x86_64, aarch64, riscv64, s390x, powerpc64, arm): not
/// declared in `memseg::sys` because memseg itself never tests for it.
const ELOOP: i32 = 40;
/// What `shm_open(O_RDWR)` of a directory fails with: `open` says `EISDIR`
/// (21 on every Linux architecture), which glibc reports as `EINVAL` (22)
/// and musl passes through.
const DIRECTORY_ERRNO: i32 = if cfg!(target_env = "musl") { 21 } else { 22 };

/// Selects what a re-run of this binary does in [`child_entry`].
const CHILD_ENV: &str = "MEMSEG_SHM_CHILD";
/// The object a child works on.
const NAME_ENV: &str = "MEMSEG_SHM_NAME";
/// Printed by a child that really ran, so an empty filter cannot pass.
const CHILD_RAN: &str = "memseg-shm-child-ran";

/// A name unique to this process and test, without the leading slash.
fn unique(tag: &str) -> String {
    format!("memseg-test-{}-{}", std::process::id(), tag)
}

/// The entries of `/dev/shm` whose names start with `prefix`.
fn entries_starting_with(prefix: &str) -> Vec<String> {
    fs::read_dir("/dev/shm")
        .expect("read /dev/shm")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect()
}

/// This process's umask, from `/proc/self/status` (Linux 4.7+); 0o022 when
/// the kernel does not report it.
fn umask() -> u32 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// The permission bits of `/dev/shm/<name>`.
fn mode_of(name: &str) -> u32 {
    fs::metadata(dev_shm(name))
        .expect("stat /dev/shm entry")
        .permissions()
        .mode()
        & 0o7777
}

#[track_caller]
fn assert_errno<T: std::fmt::Debug>(result: io::Result<T>, errno: i32) {
    let err = result.expect_err("expected an OS error");
    assert_eq!(err.raw_os_error(), Some(errno), "got {:?}", err);
}

/// An error memseg made itself, before any system call: `InvalidInput`, no
/// errno, and a message that names the rule.
#[track_caller]
fn assert_rule<T: std::fmt::Debug>(result: io::Result<T>, rule: &str) {
    let err = result.expect_err("expected an InvalidInput error");
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{:?}", err);
    assert_eq!(err.raw_os_error(), None, "came from the OS: {:?}", err);
    let message = err.to_string();
    assert!(
        message.contains(rule),
        "{:?} does not name the rule {:?}",
        message,
        rule
    );
}

/// Re-runs this test binary as `child_entry` with `role`, returning its
/// combined output after checking that the child ran and passed.
fn run_child(role: &str, name: &str) -> String {
    let out = Command::new(env::current_exe().expect("current_exe"))
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, role)
        .env(NAME_ENV, name)
        .output()
        .expect("spawn child");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "child {} failed:\n{}", role, text);
    assert!(
        text.contains(CHILD_RAN),
        "child {} did not run:\n{}",
        role,
        text
    );
    text
}

/// The child side of the multi-process tests; does nothing in a normal run.
#[test]
fn child_entry() {
    let role = match env::var(CHILD_ENV) {
        Ok(role) => role,
        Err(_) => return,
    };
    println!("{}", CHILD_RAN);
    let name = env::var(NAME_ENV).expect("child needs MEMSEG_SHM_NAME");
    match role.as_str() {
        "writer" => child_writer(&name),
        "fd-leak" => child_fd_leak(&name),
        "enospc" => child_enospc(&name),
        other => panic!("unknown child role {:?}", other),
    }
}

// ---------------------------------------------------------------- names

#[test]
fn names_are_normalised_to_a_leading_slash() {
    assert_eq!(ShmName::new("x").unwrap().as_str(), "/x");
    assert_eq!(ShmName::new("/x").unwrap().as_str(), "/x");
    assert_eq!(ShmName::new("x").unwrap(), ShmName::new("/x").unwrap());
    assert_eq!(
        ShmName::new("x").unwrap().as_c_str().to_bytes_with_nul(),
        b"/x\0"
    );
    assert_eq!(ShmName::new("x").unwrap().to_string(), "/x");
    assert_eq!("y".parse::<ShmName>().unwrap().as_str(), "/y");
}

#[test]
fn with_and_without_slash_open_the_same_object() {
    let name = unique("slash");
    let creator = Shm::create_new(&name, 4096).unwrap();
    let slashed = Shm::open(format!("/{}", name)).unwrap();
    assert_eq!(creator.name(), slashed.name());
    assert_eq!(
        creator.file().metadata().unwrap().ino(),
        slashed.file().metadata().unwrap().ino()
    );
    slashed.file().write_at(b"same", 10).unwrap();
    let mut buf = [0; 4];
    creator.file().read_at(&mut buf, 10).unwrap();
    assert_eq!(&buf, b"same");
    // And the other way round: created with the slash, opened without.
    let name2 = unique("slash2");
    let _creator2 = Shm::create_new(format!("/{}", name2), 0).unwrap();
    assert!(Shm::open(&name2).is_ok());
}

#[test]
fn every_invalid_name_rule_is_refused_before_any_system_call() {
    let prefix = unique("bad");
    let too_long = "a".repeat(ShmName::MAX_LEN); // plus the slash: one too many
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "empty"),
        ("/".to_owned(), "empty"),
        (format!("{}/x", prefix), "'/' after the first character"),
        (format!("/{}/x", prefix), "'/' after the first character"),
        (format!("//{}", prefix), "'/' after the first character"),
        (format!("{}\0x", prefix), "NUL"),
        (".".to_owned(), "\".\" or \"..\""),
        ("/..".to_owned(), "\".\" or \"..\""),
        (too_long.clone(), "too long"),
        (format!("/{}", too_long), "too long"),
    ];
    for (name, rule) in &cases {
        assert_rule(ShmName::new(name), rule);
        assert_rule(Shm::create_new(name, 4096), rule);
        assert_rule(Shm::open(name), rule);
        assert_rule(Shm::open_read_only(name), rule);
        assert_rule(shm_unlink(name), rule);
        assert_rule(
            ShmOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .open(name),
            rule,
        );
    }
    assert!(entries_starting_with(&prefix).is_empty());
}

#[test]
fn the_longest_name_is_accepted_by_glibc_too() {
    // 255 bytes after the slash: the tmpfs NAME_MAX (glibc >= 2.34).
    let prefix = unique("long");
    let name = format!(
        "{}{}",
        prefix,
        "x".repeat(ShmName::MAX_LEN - 1 - prefix.len())
    );
    assert_eq!(
        ShmName::new(&name).unwrap().as_str().len(),
        ShmName::MAX_LEN
    );
    let shm = Shm::create_new(&name, 0).unwrap();
    assert!(dev_shm(&name).exists());
    drop(shm);
    assert!(!dev_shm(&name).exists());
}

// ---------------------------------------------------------------- create_new and the drop policy

#[test]
fn create_new_makes_a_0600_object_of_reserved_space_and_drop_removes_it() {
    let name = unique("create");
    let shm = Shm::create_new(&name, 1 << 20).unwrap();
    assert_eq!(shm.len(), 1 << 20);
    assert!(!shm.is_empty());
    assert!(shm.unlinks_on_drop());
    assert_eq!(shm.name().as_str(), format!("/{}", name));
    let meta = fs::metadata(dev_shm(&name)).unwrap();
    assert!(meta.is_file());
    assert_eq!(meta.len(), 1 << 20);
    assert_eq!(mode_of(&name), 0o600 & !umask());
    // posix_fallocate reserved every page: no hole left to SIGBUS on.
    assert!(
        meta.blocks() * 512 >= 1 << 20,
        "only {} blocks",
        meta.blocks()
    );
    drop(shm);
    assert!(!dev_shm(&name).exists());
}

#[test]
fn create_new_with_len_zero_leaves_it_empty() {
    let name = unique("create-empty");
    let shm = Shm::create_new(&name, 0).unwrap();
    assert!(shm.is_empty());
    assert_eq!(fs::metadata(dev_shm(&name)).unwrap().len(), 0);
}

#[test]
fn create_new_descriptors_are_close_on_exec() {
    let shm = Shm::create_unique(&unique("cloexec-"), 0).unwrap();
    let info = fs::read_to_string(format!("/proc/self/fdinfo/{}", shm.as_raw_fd())).unwrap();
    let flags = info
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .map(|v| u32::from_str_radix(v.trim(), 8).unwrap())
        .unwrap();
    const O_CLOEXEC: u32 = 0o2000000; // octal, as fdinfo prints it
    assert_ne!(flags & O_CLOEXEC, 0, "flags {:o}", flags);
}

#[test]
fn keep_leaves_the_object_for_others() {
    let name = unique("keep");
    let mut shm = Shm::create_new(&name, 4096).unwrap();
    shm.keep();
    assert!(!shm.unlinks_on_drop());
    drop(shm);
    assert!(dev_shm(&name).exists());
    assert_eq!(Shm::open(&name).unwrap().len(), 4096);
    shm_unlink(&name).unwrap();
    assert!(!dev_shm(&name).exists());
}

#[test]
fn into_file_keeps_the_name() {
    let name = unique("into-file");
    let file = Shm::create_new(&name, 4096).unwrap().into_file();
    assert!(dev_shm(&name).exists());
    assert_eq!(file.metadata().unwrap().len(), 4096);
    drop(file);
    assert!(dev_shm(&name).exists());
    shm_unlink(&name).unwrap();
}

#[test]
fn opener_does_not_unlink_unless_asked() {
    let name = unique("opener");
    let creator = Shm::create_new(&name, 4096).unwrap();
    let opener = Shm::open(&name).unwrap();
    assert!(!opener.unlinks_on_drop());
    assert_eq!(opener.len(), 4096);
    drop(opener);
    assert!(dev_shm(&name).exists());
    let mut last = Shm::open(&name).unwrap();
    last.set_unlink_on_drop(true);
    drop(last);
    assert!(!dev_shm(&name).exists());
    // The creator's own drop now finds nothing to remove; that is ignored.
    drop(creator);
}

#[test]
fn unlink_removes_now_reports_enoent_after_and_disarms_drop() {
    let name = unique("unlink");
    let shm = Shm::create_new(&name, 4096).unwrap();
    shm.unlink().unwrap();
    assert!(!dev_shm(&name).exists());
    assert!(!shm.unlinks_on_drop());
    // The object lives on through the descriptor.
    shm.file().write_at(b"alive", 0).unwrap();
    assert_errno(shm.unlink(), ENOENT);
    // A new object under the same name must survive the old handle's drop.
    let newcomer = Shm::create_new(&name, 0).unwrap();
    drop(shm);
    assert!(dev_shm(&name).exists());
    drop(newcomer);
    assert!(!dev_shm(&name).exists());
}

// ---------------------------------------------------------------- exact errno values

#[test]
fn create_new_on_a_taken_name_is_eexist() {
    let name = unique("eexist");
    let _shm = Shm::create_new(&name, 4096).unwrap();
    let err = Shm::create_new(&name, 4096).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(EEXIST));
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    // The failed attempt must not have removed or shrunk the first object.
    assert_eq!(fs::metadata(dev_shm(&name)).unwrap().len(), 4096);
    assert_errno(
        ShmOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&name),
        EEXIST,
    );
}

#[test]
fn open_of_a_missing_name_is_enoent() {
    let name = unique("missing");
    let err = Shm::open(&name).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(ENOENT));
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_errno(Shm::open_read_only(&name), ENOENT);
    assert_errno(ShmOptions::new().read(true).open(&name), ENOENT);
}

#[test]
fn shm_unlink_of_a_missing_name_is_enoent() {
    assert_errno(shm_unlink(unique("missing-unlink")), ENOENT);
}

#[test]
fn lengths_past_off_t_are_refused_before_creating_anything() {
    let name = unique("huge");
    assert_rule(Shm::create_new(&name, u64::MAX), "i64::MAX");
    assert_rule(Shm::create_unique(&name, 1 << 63), "i64::MAX");
    assert!(entries_starting_with(&name).is_empty());
}

// ---------------------------------------------------------------- ShmOptions

#[test]
fn options_default_mode_is_0600() {
    let name = unique("opt-default");
    let file = ShmOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&name)
        .unwrap();
    assert_eq!(mode_of(&name), 0o600 & !umask());
    drop(file);
    shm_unlink(&name).unwrap();
}

#[test]
fn options_mode_is_honoured_less_the_umask() {
    let name = unique("opt-mode");
    let _file = ShmOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .mode(0o640)
        .open(&name)
        .unwrap();
    assert_eq!(mode_of(&name), 0o640 & !umask());
    shm_unlink(&name).unwrap();
}

#[test]
fn options_create_opens_an_existing_object() {
    let name = unique("opt-create");
    let shm = Shm::create_new(&name, 4096).unwrap();
    let file = ShmOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .open(&name)
        .unwrap();
    assert_eq!(
        file.metadata().unwrap().ino(),
        shm.file().metadata().unwrap().ino()
    );
}

#[test]
fn read_only_descriptors_cannot_write() {
    let name = unique("opt-ro");
    let shm = Shm::create_new(&name, 4096).unwrap();
    let file = ShmOptions::new().read(true).open(&name).unwrap();
    assert_errno(file.write_at(b"x", 0), EBADF);
    let ro = Shm::open_read_only(&name).unwrap();
    assert_errno(ro.file().write_at(b"x", 0), EBADF);
    // Reading works, and sees the creator's bytes.
    shm.file().write_at(b"r", 7).unwrap();
    let mut buf = [0; 1];
    ro.file().read_at(&mut buf, 7).unwrap();
    assert_eq!(&buf, b"r");
}

#[test]
fn options_truncate_empties_the_object() {
    let name = unique("opt-trunc");
    let shm = Shm::create_new(&name, 8192).unwrap();
    shm.file().write_at(b"data", 0).unwrap();
    let file = ShmOptions::new()
        .read(true)
        .write(true)
        .truncate(true)
        .open(&name)
        .unwrap();
    assert_eq!(file.metadata().unwrap().len(), 0);
    assert_eq!(fs::metadata(dev_shm(&name)).unwrap().len(), 0);
}

#[test]
fn options_rules_are_refused_before_any_system_call() {
    let name = unique("opt-rules");
    assert_rule(ShmOptions::new().open(&name), "read(true) is required");
    assert_rule(
        ShmOptions::new().write(true).create(true).open(&name),
        "no write-only mode",
    );
    assert_rule(
        ShmOptions::new().read(true).create(true).open(&name),
        "create requires write",
    );
    assert_rule(
        ShmOptions::new().read(true).create_new(true).open(&name),
        "create_new requires write",
    );
    assert_rule(
        ShmOptions::new().read(true).truncate(true).open(&name),
        "truncate requires write",
    );
    assert_rule(
        ShmOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .mode(0o10000)
            .open(&name),
        "at most 0o7777",
    );
    assert!(entries_starting_with(&name).is_empty());
}

// ---------------------------------------------------------------- create_unique

#[test]
fn create_unique_gives_1000_distinct_names_and_cleans_up() {
    let prefix = unique("uniq-");
    let mut names = HashSet::new();
    for _ in 0..1000 {
        let shm = Shm::create_unique(&prefix, 0).unwrap();
        let name = shm.name().as_str().to_owned();
        assert_eq!(name.len(), 1 + prefix.len() + 16, "{}", name);
        let digits = &name[1 + prefix.len()..];
        assert!(digits.bytes().all(|b| b.is_ascii_hexdigit()), "{}", name);
        assert!(dev_shm(&name).exists());
        assert!(names.insert(name));
    }
    assert_eq!(names.len(), 1000);
    assert!(entries_starting_with(&prefix).is_empty());
}

#[test]
fn create_unique_checks_its_prefix() {
    let prefix = unique("uniq-rules");
    assert_rule(Shm::create_unique(&format!("{}/", prefix), 0), "'/'");
    assert_rule(Shm::create_unique(&format!("{}\0", prefix), 0), "NUL");
    assert_rule(
        Shm::create_unique(&"p".repeat(ShmName::MAX_LEN - 16), 0),
        "prefix too long",
    );
    // The longest prefix that fits, with a leading slash.
    let longest = format!("/{}", "p".repeat(ShmName::MAX_LEN - 1 - 16));
    let shm = Shm::create_unique(&longest, 4096).unwrap();
    assert_eq!(shm.name().as_str().len(), ShmName::MAX_LEN);
    assert_eq!(shm.len(), 4096);
    // An empty prefix is allowed: the name is the digits alone.
    assert_eq!(Shm::create_unique("", 0).unwrap().name().as_str().len(), 17);
}

// ---------------------------------------------------------------- set_len

#[test]
fn set_len_grows_with_reserved_space_and_shrinks_visibly_to_others() {
    let name = unique("set-len");
    let mut shm = Shm::create_new(&name, 4096).unwrap();
    shm.set_len(1 << 20).unwrap();
    assert_eq!(shm.len(), 1 << 20);
    assert_eq!(Shm::open(&name).unwrap().len(), 1 << 20);
    let meta = fs::metadata(dev_shm(&name)).unwrap();
    assert!(
        meta.blocks() * 512 >= 1 << 20,
        "only {} blocks",
        meta.blocks()
    );
    shm.set_len(100).unwrap();
    assert_eq!(shm.len(), 100);
    assert_eq!(Shm::open(&name).unwrap().len(), 100);
    shm.set_len(100).unwrap();
    assert_eq!(Shm::open(&name).unwrap().len(), 100);
    assert_rule(shm.set_len(u64::MAX), "i64::MAX");
    assert_eq!(shm.len(), 100);
}

#[test]
fn set_len_on_a_read_only_handle_fails_and_keeps_len() {
    let name = unique("set-len-ro");
    let _creator = Shm::create_new(&name, 4096).unwrap();
    let mut ro = Shm::open_read_only(&name).unwrap();
    // posix_fallocate on a descriptor not open for writing: EBADF.
    assert_errno(ro.set_len(8192), EBADF);
    assert_eq!(ro.len(), 4096);
}

// ---------------------------------------------------------------- a second process

#[test]
fn a_second_process_writes_what_the_first_reads() {
    let name = unique("xproc");
    let shm = Shm::create_new(&name, 4096).unwrap();
    run_child("writer", &name);
    let mut buf = [0; 17];
    shm.file().read_at(&mut buf, 100).unwrap();
    assert_eq!(&buf, b"hello from child!");
    // The child only opened the object, so its exit left the name alone.
    assert!(dev_shm(&name).exists());
}

fn child_writer(name: &str) {
    let shm = Shm::open(name).unwrap();
    assert!(!shm.unlinks_on_drop());
    assert_eq!(shm.len(), 4096);
    shm.file().write_at(b"hello from child!", 100).unwrap();
}

// ---------------------------------------------------------------- descriptor leaks

#[test]
fn no_descriptor_leaks_over_10000_cycles() {
    let prefix = unique("fd-leak");
    let report = run_child("fd-leak", &prefix);
    assert!(report.contains("cycles: 10000"), "{}", report);
    eprintln!(
        "{}",
        report
            .lines()
            .find(|l| l.starts_with("fd-leak:"))
            .unwrap_or("")
    );
    assert!(entries_starting_with(&prefix).is_empty());
}

/// Whether `/dev/shm` has a size limit, so that an oversized
/// `posix_fallocate` fails at once with `ENOSPC` (tmpfs compares the request
/// with its block limit) instead of trying to allocate without bound.
fn dev_shm_is_size_limited() -> bool {
    fs::read_to_string("/proc/self/mounts")
        .map(|m| {
            m.lines().any(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() > 3
                    && f[1] == "/dev/shm"
                    && f[2] == "tmpfs"
                    && f[3]
                        .split(',')
                        .any(|o| o.starts_with("size=") && o != "size=0")
            })
        })
        .unwrap_or(false)
}

fn child_fd_leak(prefix: &str) {
    let held_name = format!("{}-held", prefix);
    let held = Shm::create_new(&held_name, 4096).unwrap();
    let enospc = dev_shm_is_size_limited();
    let before = fd_count();
    let mut cycles = 0;
    for i in 0..10_000 {
        cycles += 1;
        match i % 6 {
            // Success: create, reserve, unlink and close on drop.
            0 => drop(Shm::create_new(format!("{}-{}", prefix, i), 4096).unwrap()),
            1 => assert_errno(Shm::create_new(&held_name, 4096), EEXIST),
            2 => assert_rule(Shm::create_new(format!("{}/{}", prefix, i), 4096), "'/'"),
            3 => assert_errno(Shm::open(format!("{}-missing", prefix)), ENOENT),
            // Fails after the object exists: it must be unlinked and closed.
            4 if enospc => assert_errno(
                Shm::create_new(format!("{}-{}", prefix, i), 1 << 62),
                ENOSPC,
            ),
            4 => drop(Shm::create_unique(prefix, 0).unwrap()),
            _ => drop(Shm::open(&held_name).unwrap()),
        }
    }
    let after = fd_count();
    assert_eq!(before, after, "descriptors leaked");
    drop(held);
    let left = entries_starting_with(prefix.trim_start_matches('/'));
    assert!(left.is_empty(), "left behind: {:?}", left);
    println!(
        "fd-leak: cycles: {}, {} descriptors before and after, ENOSPC path: {}",
        cycles, before, enospc
    );
}

// ---------------------------------------------------------------- out of space

#[test]
fn out_of_space_is_enospc_at_create_and_leaves_nothing() {
    // A private mount namespace with a 1 MiB tmpfs over /dev/shm, so the
    // real one is never filled. Needs root (or CAP_SYS_ADMIN) and
    // util-linux's unshare; skipped otherwise.
    let exe = env::current_exe().unwrap();
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(
            "mount -t tmpfs -o size=1m memseg-test /dev/shm && \
             exec \"$0\" --exact child_entry --nocapture --test-threads=1",
        )
        .arg(exe)
        .env(CHILD_ENV, "enospc")
        .env(NAME_ENV, unique("enospc"))
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: cannot run unshare: {}", e);
            return;
        }
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !text.contains(CHILD_RAN) {
        eprintln!("skipped: no private tmpfs for /dev/shm:\n{}", text);
        return;
    }
    assert!(out.status.success(), "child failed:\n{}", text);
    assert!(text.contains("enospc: done"), "{}", text);
}

fn child_enospc(name: &str) {
    assert!(
        entries_starting_with("").is_empty(),
        "not in the private tmpfs"
    );
    let err = Shm::create_new(name, 2 << 20).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(ENOSPC), "{:?}", err);
    assert!(
        !dev_shm(name).exists(),
        "a failed create left its name behind"
    );
    assert!(entries_starting_with("").is_empty());

    // 512 KiB fits; then growing past the rest fails and changes nothing.
    let mut shm = Shm::create_new(name, 512 << 10).unwrap();
    assert_errno(shm.set_len(2 << 20), ENOSPC);
    assert_eq!(shm.len(), 512 << 10);
    assert_eq!(fs::metadata(dev_shm(name)).unwrap().len(), 512 << 10);
    let other = format!("{}-2", name);
    assert_errno(Shm::create_new(&other, 768 << 10), ENOSPC);
    assert!(!dev_shm(&other).exists());
    drop(shm);
    assert!(entries_starting_with("").is_empty());
    // With the space back, the same request succeeds.
    assert!(Shm::create_new(&other, 768 << 10).is_ok());
    println!("enospc: done");
}

// ---------------------------------------------------------------- squatting

#[test]
fn a_symlink_planted_at_the_name_is_not_followed() {
    let name = unique("symlink");
    let target = unique("symlink-target");
    let target_shm = Shm::create_new(&target, 4096).unwrap();
    std::os::unix::fs::symlink(dev_shm(&target), dev_shm(&name)).unwrap();
    let _planted = Planted(dev_shm(&name));

    assert_errno(Shm::open(&name), ELOOP);
    assert_errno(Shm::open_read_only(&name), ELOOP);
    assert_errno(ShmOptions::new().read(true).open(&name), ELOOP);
    assert_errno(
        ShmOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .open(&name),
        ELOOP,
    );
    assert_errno(
        ShmOptions::new()
            .read(true)
            .write(true)
            .truncate(true)
            .open(&name),
        ELOOP,
    );
    // O_EXCL refuses any existing entry, links included.
    assert_errno(Shm::create_new(&name, 4096), EEXIST);
    // Nothing reached the target.
    assert_eq!(target_shm.file().metadata().unwrap().len(), 4096);

    // shm_unlink removes the link itself, not what it points to.
    shm_unlink(&name).unwrap();
    assert!(fs::symlink_metadata(dev_shm(&name)).is_err());
    assert!(dev_shm(&target).exists());
}

#[test]
fn something_other_than_a_regular_file_is_refused() {
    // A directory where an object should be: O_RDWR fails in open itself
    // (EISDIR, which glibc turns into EINVAL), while O_RDONLY succeeds and
    // must be caught by the fstat check.
    let name = unique("dir");
    fs::create_dir(dev_shm(&name)).unwrap();
    let planted = Planted(dev_shm(&name));
    assert_errno(Shm::open(&name), DIRECTORY_ERRNO);
    let err = Shm::open_read_only(&name).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{:?}", err);
    assert!(err.to_string().contains("not a regular file"), "{}", err);
    let err = ShmOptions::new().read(true).open(&name).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{:?}", err);
    drop(planted);
    assert!(!dev_shm(&name).exists());
}

#[test]
fn debug_shows_name_len_and_policy() {
    let name = unique("debug");
    let shm = Shm::create_new(&name, 4096).unwrap();
    let text = format!("{:?}", shm);
    assert!(text.contains(&format!("\"/{}\"", name)), "{}", text);
    assert!(text.contains("len: 4096"), "{}", text);
    assert!(text.contains("unlink_on_drop: true"), "{}", text);
    assert_eq!(
        format!("{:?}", shm.name()),
        format!("ShmName(\"/{}\")", name)
    );
}
