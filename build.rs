//! Classifies the target into the `memseg_*` cfgs that `src/sys` selects on,
//! and links the one C library that std does not already bring in for us.
//!
//! No C compiler, no network, no files written: only `cargo:` lines.

use std::env;

fn main() {
    // Re-run only when the build script itself changes; every input below is
    // a target property that Cargo already keys its cache on.
    println!("cargo:rerun-if-changed=build.rs");

    // Declare every cfg we may set so rustc's unexpected-cfg lint (1.80+)
    // knows them. Older Cargo (the 1.63 MSRV) warns about the line instead,
    // so it is emitted only where it is understood.
    if rustc_minor().map_or(true, |minor| minor >= 80) {
        println!("cargo:rustc-check-cfg=cfg(memseg_linux,memseg_apple,memseg_freebsd,memseg_lfs64,memseg_unsupported)");
    }

    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env_ = env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let width = env::var("CARGO_CFG_TARGET_POINTER_WIDTH").unwrap_or_default();
    let endian = env::var("CARGO_CFG_TARGET_ENDIAN").unwrap_or_default();
    let target = env::var("TARGET").unwrap_or_default();

    // The unsupported-target message names the target it was built for.
    println!("cargo:rustc-env=MEMSEG_TARGET={}", target);

    let platform = match (os.as_str(), env_.as_str()) {
        // Linux: the constants in src/sys/linux.rs were checked against the
        // headers of exactly these architectures (mips, sparc, alpha and
        // parisc number their mman flags differently and are not covered).
        ("linux", "gnu") | ("linux", "musl")
            if matches!(
                arch.as_str(),
                "x86_64" | "x86" | "aarch64" | "arm" | "riscv64" | "s390x"
            ) || (arch == "powerpc64" && endian == "little") =>
        {
            Some("memseg_linux")
        }
        ("macos", _) if matches!(arch.as_str(), "x86_64" | "aarch64") => Some("memseg_apple"),
        ("freebsd", _) if arch == "x86_64" => Some("memseg_freebsd"),
        _ => None,
    };
    match platform {
        Some(cfg) => println!("cargo:rustc-cfg={}", cfg),
        None => println!("cargo:rustc-cfg=memseg_unsupported"),
    }

    if os == "linux" && env_ == "gnu" {
        // glibc before 2.34 keeps shm_open/shm_unlink in librt; from 2.34
        // librt is an empty stub, so asking for it is harmless everywhere.
        // (std happens to link librt on linux-gnu today; we do not rely on it.)
        println!("cargo:rustc-link-lib=rt");
        if width == "32" {
            // 32-bit glibc: off_t is 32 bits unless the *64 symbols are used.
            // src/sys links mmap64/posix_fallocate64/fcntl64 under this cfg
            // (as glibc's headers do with _FILE_OFFSET_BITS=64; fcntl64 needs
            // glibc 2.28+) so that offsets past 2 GiB work. musl's off_t is always 64-bit and musl
            // 1.2.4 removed the *64 names, so this is glibc-only.
            println!("cargo:rustc-cfg=memseg_lfs64");
        }
    }
}

/// The minor version of the rustc Cargo builds with (`$RUSTC --version`),
/// or `None` if it cannot be read.
fn rustc_minor() -> Option<u32> {
    let rustc = env::var_os("RUSTC")?;
    let out = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    // "rustc 1.63.0 (4b91a6ea7 2022-08-08)"
    text.split_whitespace()
        .nth(1)?
        .split('.')
        .nth(1)?
        .parse()
        .ok()
}
