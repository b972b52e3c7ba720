//! ABI test: every constant, C type and function prototype that `memseg::sys`
//! declares is compared with the host's real C headers, by generating a C
//! program, compiling it with the system C compiler and running it.
//!
//! What is checked, for the target this test is built for:
//!
//! - each constant's value against the header's (`(long long)NAME`); a name
//!   the headers do not declare is a failure, not a skip;
//! - each C type memseg uses (`c_int`, `c_uint`, `c_long`, `c_char`, `size_t`,
//!   `off_t`, `mode_t`): size and signedness against `sizeof` and `(T)-1 < 0`;
//! - each function's prototype, with `_Static_assert` and
//!   `__builtin_types_compatible_p` against the Rust declaration mapped to C;
//! - each function's link name: `dlsym(RTLD_DEFAULT, LINK_NAME)` must be the
//!   symbol C binds the name to (`&NAME`), which catches a missing `mmap64`
//!   or a header that redirects a name to a `*64` symbol;
//! - in Rust, every function's address resolves (each symbol links).
//!
//! The C side is compiled with `-D_GNU_SOURCE -D_FILE_OFFSET_BITS=64`,
//! because memseg's `off_t` is always 64 bits.
//!
//! Environment:
//!
//! - `MEMSEG_ABI_CC` (else `CC`, else `cc`): the C compiler, split on
//!   whitespace so extra flags can be given (`cc -m32` for
//!   `--target i686-unknown-linux-gnu`, or a cross compiler);
//! - `MEMSEG_ABI_RUNNER`: a prefix to run the generated program with, split
//!   on whitespace (`qemu-aarch64 -L /usr/aarch64-linux-gnu`);
//! - `MEMSEG_REQUIRE_CC=1`: a missing C compiler fails the test instead of
//!   skipping it.
//!
//! Run `cargo test --test abi -- --nocapture` to see what was compared.
//! Another target's headers, under qemu (Debian's `gcc-aarch64-linux-gnu`):
//!
//! ```text
//! CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
//! CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu" \
//! MEMSEG_ABI_CC=aarch64-linux-gnu-gcc \
//! MEMSEG_ABI_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu" \
//! cargo test --target aarch64-unknown-linux-gnu --test abi -- --nocapture
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::env;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use memseg::sys;

/// A C type as Rust sees it: its C spelling, size and signedness.
struct CType {
    /// The Rust name in `memseg::sys` (`c_int`, `mode_t`).
    rust: &'static str,
    /// The C spelling (`int`, `mode_t`).
    c: &'static str,
    /// `size_of` on the Rust side.
    size: usize,
    /// Whether `-1` fits, on the Rust side.
    signed: bool,
}

/// Whether the integer type `T` can hold `-1`.
fn is_signed<T: TryFrom<i8>>() -> bool {
    T::try_from(-1i8).is_ok()
}

macro_rules! c_types {
    ($($rust:ident => $c:expr,)*) => {
        vec![$(CType {
            rust: stringify!($rust),
            c: $c,
            size: std::mem::size_of::<sys::$rust>(),
            signed: is_signed::<sys::$rust>(),
        },)*]
    };
}

/// Every integer type memseg's declarations may use, with its C spelling.
/// A type used in `src/sys` that is not listed here fails the test.
fn c_types() -> Vec<CType> {
    c_types! {
        c_int => "int",
        c_uint => "unsigned int",
        c_long => "long",
        c_char => "char",
        size_t => "size_t",
        off_t => "off_t",
        mode_t => "mode_t",
    }
}

/// Maps one stringified Rust type (`*const c_char`, `* mut c_void`,
/// `size_t`) to C, recording the integer types it uses.
fn rust_type_to_c(
    rust: &str,
    types: &[CType],
    used: &mut BTreeSet<&'static str>,
) -> Result<String, String> {
    // stringify! spacing differs between compilers (`*mut T`, `* mut T`):
    // split into tokens first.
    let spaced = rust.replace('*', " * ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    fn go(
        tokens: &[&str],
        whole: &str,
        types: &[CType],
        used: &mut BTreeSet<&'static str>,
    ) -> Result<String, String> {
        match tokens {
            ["*", "mut", rest @ ..] => Ok(format!("{} *", go(rest, whole, types, used)?)),
            ["*", "const", rest @ ..] => {
                let inner = go(rest, whole, types, used)?;
                // `const char *`, and `char *const *` for nested pointers.
                if inner.ends_with('*') {
                    Ok(format!("{}const *", inner))
                } else {
                    Ok(format!("const {} *", inner))
                }
            }
            ["c_void"] => Ok("void".to_string()),
            ["(", ")"] | ["()"] => Ok("void".to_string()),
            [name] => match types.iter().find(|t| t.rust == *name) {
                Some(t) => {
                    used.insert(t.rust);
                    Ok(t.c.to_string())
                }
                None => Err(format!(
                    "unknown Rust type `{}` (in `{}`): add it to c_types() in tests/abi.rs",
                    name, whole
                )),
            },
            _ => Err(format!(
                "cannot map Rust type `{}` to C: add a rule to rust_type_to_c in tests/abi.rs",
                whole
            )),
        }
    }
    go(&tokens, rust, types, used)
}

/// The C prototype `RET (*)(PARAMS)` of one declared function.
fn c_fn_pointer_type(
    f: &sys::Func,
    types: &[CType],
    used: &mut BTreeSet<&'static str>,
) -> Result<String, String> {
    let ret = rust_type_to_c(f.ret, types, used)?;
    let mut params = Vec::new();
    for p in f.params.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if p == "..." {
            params.push("...".to_string());
        } else {
            params.push(rust_type_to_c(p, types, used)?);
        }
    }
    if params.is_empty() {
        params.push("void".to_string());
    }
    Ok(format!("{} (*)({})", ret, params.join(", ")))
}

/// Writes the C program that prints every constant and type and checks
/// every prototype at compile time.
fn c_program(
    consts: &[sys::Const],
    funcs: &[sys::Func],
    types: &[CType],
    used: &BTreeSet<&'static str>,
    protos: &BTreeMap<&'static str, String>,
) -> String {
    let mut c = String::new();
    c.push_str(
        r#"/* Generated by memseg's tests/abi.rs; compiled with -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64. */
#include <sys/types.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <dlfcn.h>
#if defined(__linux__) || defined(__FreeBSD__)
#  include <sys/syscall.h>
#endif

/* Which constants the C library's headers define as macros, and their
   values as the C library defines them (captured before any kernel header
   can redefine the macro). */
"#,
    );
    for k in consts {
        let _ = write!(
            c,
            "#ifdef {0}\n#  define MEMSEG_LIBC_{0} 1\n\
             static const long long memseg_libc_{0} = (long long)({0});\n\
             #else\n#  define MEMSEG_LIBC_{0} 0\n#  define MEMSEG_NEED_UAPI 1\n#endif\n",
            k.name
        );
    }
    c.push_str(
        r#"
/* On Linux, a constant the C library's headers lack (glibc has no
   MFD_HUGE_SHIFT, musl 1.2.3 no MADV_POPULATE_READ) is taken from the
   kernel's uapi headers, which define the ABI; main() says which. An
   enumerator (not a macro) that the C library declares compiles too.
   Kernel headers may redefine a libc macro; the value compared is still
   the one captured above. */
#if defined(MEMSEG_NEED_UAPI) && defined(__linux__) && defined(__has_include)
#  if __has_include(<linux/mman.h>)
#    include <linux/mman.h>
#  endif
#  if __has_include(<linux/memfd.h>)
#    include <linux/memfd.h>
#  endif
#endif

/* MEMSEG_MACRO_name: whether name is a macro once the uapi fallback ran. */
"#,
    );
    for k in consts {
        let _ = write!(
            c,
            "#ifdef {0}\n#  define MEMSEG_MACRO_{0} 1\n#else\n#  define MEMSEG_MACRO_{0} 0\n#endif\n",
            k.name
        );
    }
    c.push_str(
        r#"
#define PROTO(name, type) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&name), type), \
                   "memseg-proto:" #name);
"#,
    );
    c.push('\n');
    for f in funcs {
        let _ = writeln!(c, "PROTO({}, {})", f.name, protos[f.name]);
    }
    c.push_str(
        r#"
static void sym(const char *name, const char *link, const char *link64, void *bound) {
    void *s = dlsym(RTLD_DEFAULT, link);
    void *s64 = dlsym(RTLD_DEFAULT, link64);
    Dl_info info;
    if (s == bound) {
        printf("sym %s %s same\n", name, link);
    } else if (s == NULL) {
        printf("sym %s %s missing\n", name, link);
    } else if (s64 == bound) {
        printf("sym %s %s same64\n", name, link);
    } else if (dladdr(bound, &info) && info.dli_sname) {
        printf("sym %s %s other:%s\n", name, link, info.dli_sname);
    } else {
        printf("sym %s %s other:?\n", name, link);
    }
}

int main(void) {
"#,
    );
    for k in consts {
        let _ = write!(
            c,
            "#if MEMSEG_LIBC_{0}\n\
             \x20   printf(\"const {0} %lld libc\\n\", memseg_libc_{0});\n\
             #elif MEMSEG_MACRO_{0}\n\
             \x20   printf(\"const {0} %lld uapi\\n\", (long long)({0}));\n\
             #else\n\
             \x20   printf(\"const {0} %lld libc-enum\\n\", (long long)({0}));\n\
             #endif\n",
            k.name
        );
    }
    for t in types.iter().filter(|t| used.contains(t.rust)) {
        let _ = writeln!(
            c,
            "    printf(\"type {} %u %d\\n\", (unsigned)sizeof({1}), (int)(({1})-1 < ({1})0));",
            t.rust, t.c
        );
    }
    // A binary where dlsym finds nothing (static linking) cannot answer the
    // link-name question; probe with a symbol this program certainly uses.
    c.push_str(
        "    if (dlsym(RTLD_DEFAULT, \"printf\") == NULL) {\n\
         \x20       const char *err = dlerror();\n\
         \x20       printf(\"dlsym-unavailable %s\\n\", err ? err : \"dlsym(RTLD_DEFAULT, \\\"printf\\\") is NULL\");\n\
         \x20   } else {\n",
    );
    for f in funcs {
        // `same`: memseg's link name is the symbol C binds NAME to.
        // `same64`: C binds NAME to LINK_NAME64 instead (a header redirect).
        // `missing`: the C library exports no LINK_NAME.
        // `other:SYM`: something else; dladdr names it where it can.
        let _ = writeln!(
            c,
            "        sym(\"{0}\", \"{1}\", \"{1}64\", (void *)&{0});",
            f.name, f.link_name
        );
    }
    c.push_str("    }\n    return 0;\n}\n");
    c
}

/// A program plus its leading arguments, from an environment variable split
/// on whitespace.
fn command_from(words: &str) -> Option<Command> {
    let mut words = words.split_whitespace();
    let mut cmd = Command::new(words.next()?);
    cmd.args(words);
    Some(cmd)
}

/// The C compiler command (`MEMSEG_ABI_CC`, `CC`, or `cc`) and how it was
/// chosen.
fn compiler() -> (String, &'static str) {
    for var in ["MEMSEG_ABI_CC", "CC"] {
        if let Ok(cc) = env::var(var) {
            if !cc.trim().is_empty() {
                return (cc, var);
            }
        }
    }
    ("cc".to_string(), "default")
}

/// A temporary directory removed on drop, also when the test panics.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> io::Result<TempDir> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = env::temp_dir().join(format!("memseg-abi-{}-{}", std::process::id(), nanos));
        fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Best effort: a leftover directory in the temp dir is harmless.
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn show(out: &Output) -> String {
    format!(
        "status: {}\n--- stdout ---\n{}--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Names quoted in compiler diagnostics that are ours: undeclared constants
/// or functions, and failed prototype assertions.
fn diagnose(stderr: &str, consts: &[sys::Const], funcs: &[sys::Func]) -> Vec<String> {
    let mut problems = BTreeSet::new();
    for line in stderr.lines() {
        if let Some(i) = line.find("memseg-proto:") {
            let name: String = line[i + "memseg-proto:".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            problems.insert(format!(
                "prototype of `{}` differs from the C header's",
                name
            ));
        }
        if line.contains("undeclared") || line.contains("undeclared identifier") {
            for k in consts {
                if mentions(line, k.name) {
                    problems.insert(format!("constant `{}` is not in the C headers", k.name));
                }
            }
            for f in funcs {
                if mentions(line, f.name) {
                    problems.insert(format!("function `{}` is not in the C headers", f.name));
                }
            }
        }
    }
    problems.into_iter().collect()
}

/// Whether `line` names the identifier `name` as a whole word.
fn mentions(line: &str, name: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    line.match_indices(name).any(|(i, _)| {
        let before = line[..i].chars().next_back();
        let after = line[i + name.len()..].chars().next();
        !before.map_or(false, ident) && !after.map_or(false, ident)
    })
}

#[test]
fn declarations_match_c_headers() {
    let consts = sys::constants();
    let funcs = sys::functions();
    let types = c_types();
    let mut problems: Vec<String> = Vec::new();

    // Rust side: every symbol links and resolves.
    for f in &funcs {
        let addr = (f.addr)();
        if addr == 0 {
            problems.push(format!(
                "`{}` (`{}`) resolved to address 0",
                f.name, f.link_name
            ));
        }
    }

    // Map every declaration to C; an unknown Rust type is a failure.
    let mut used: BTreeSet<&'static str> = BTreeSet::new();
    let mut protos: BTreeMap<&'static str, String> = BTreeMap::new();
    for k in &consts {
        match rust_type_to_c(k.ty, &types, &mut used) {
            Ok(_) => {}
            Err(e) => problems.push(format!("constant `{}`: {}", k.name, e)),
        }
    }
    for f in &funcs {
        match c_fn_pointer_type(f, &types, &mut used) {
            Ok(p) => {
                protos.insert(f.name, p);
            }
            Err(e) => problems.push(format!("function `{}`: {}", f.name, e)),
        }
    }
    assert!(
        problems.is_empty(),
        "abi: cannot generate the C program:\n  {}",
        problems.join("\n  ")
    );
    // The issue's fixed list is compared even where a platform uses fewer.
    used.extend(types.iter().map(|t| t.rust));

    let (cc, cc_from) = compiler();
    let dir = TempDir::new().expect("create a temporary directory");
    let src = dir.0.join("abi.c");
    let exe = dir.0.join("abi");
    fs::write(&src, c_program(&consts, &funcs, &types, &used, &protos)).expect("write abi.c");

    let mut compile = command_from(&cc).expect("non-empty compiler command");
    compile
        .args([
            "-std=gnu11",
            "-D_GNU_SOURCE",
            "-D_FILE_OFFSET_BITS=64",
            "-o",
        ])
        .arg(&exe)
        .arg(&src);
    if cfg!(target_os = "linux") {
        // glibc < 2.34 keeps shm_open in librt and dlsym in libdl; both are
        // harmless stubs on newer glibc and on musl.
        compile.args(["-lrt", "-ldl"]);
    }
    let out = match compile.output() {
        Ok(out) => out,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let msg = format!(
                "no C compiler `{}` (from {}): {}. Set MEMSEG_ABI_CC or CC",
                cc, cc_from, e
            );
            if env::var_os("MEMSEG_REQUIRE_CC").map_or(false, |v| v == "1") {
                panic!("abi: MEMSEG_REQUIRE_CC=1 but {}", msg);
            }
            println!(
                "abi: SKIPPED: {} to run this test (MEMSEG_REQUIRE_CC=1 makes this a failure)",
                msg
            );
            return;
        }
        Err(e) => panic!("abi: cannot run the C compiler `{}`: {}", cc, e),
    };
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let found = diagnose(&stderr, &consts, &funcs);
        panic!(
            "abi: the generated C program does not compile with `{}`:\n  {}\n\
             generated source kept at: {}\n{}",
            cc,
            if found.is_empty() {
                "(see the compiler output below)".to_string()
            } else {
                found.join("\n  ")
            },
            keep(&dir, &src),
            show(&out)
        );
    }

    let mut run = match env::var("MEMSEG_ABI_RUNNER") {
        Ok(r) if !r.trim().is_empty() => {
            let mut cmd = command_from(&r).expect("non-empty runner");
            cmd.arg(&exe);
            cmd
        }
        _ => Command::new(&exe),
    };
    let out = run.output().expect("run the generated C program");
    assert!(
        out.status.success(),
        "abi: the C program failed\n{}",
        show(&out)
    );
    let stdout = String::from_utf8(out.stdout).expect("C program prints UTF-8");

    let mut c_consts: BTreeMap<&str, i64> = BTreeMap::new();
    let mut c_types_seen: BTreeMap<&str, (usize, bool)> = BTreeMap::new();
    let mut c_syms: BTreeMap<&str, &str> = BTreeMap::new();
    let mut dlsym_skipped: Option<&str> = None;
    let mut from_uapi: Vec<&str> = Vec::new();
    for line in stdout.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["const", name, value, source] => {
                c_consts.insert(name, value.parse().expect("integer constant"));
                if *source == "uapi" {
                    from_uapi.push(*name);
                }
            }
            ["type", name, size, signed] => {
                c_types_seen.insert(name, (size.parse().expect("size"), *signed == "1"));
            }
            ["sym", name, _link, verdict] => {
                c_syms.insert(name, verdict);
            }
            ["dlsym-unavailable", ..] => {
                dlsym_skipped = Some(line["dlsym-unavailable".len()..].trim());
            }
            _ => problems.push(format!("unexpected line from the C program: {:?}", line)),
        }
    }

    for k in &consts {
        match c_consts.get(k.name) {
            Some(&c) if c == k.value => {}
            Some(&c) => problems.push(format!(
                "constant `{}`: memseg has {} ({:#x}), the C headers {} ({:#x})",
                k.name, k.value, k.value, c, c
            )),
            None => problems.push(format!(
                "constant `{}`: not printed by the C program",
                k.name
            )),
        }
    }
    let mut n_types = 0;
    for t in types.iter().filter(|t| used.contains(t.rust)) {
        n_types += 1;
        match c_types_seen.get(t.rust) {
            Some(&(size, signed)) if size == t.size && signed == t.signed => {}
            Some(&(size, signed)) => problems.push(format!(
                "type `{}` (C `{}`): memseg has {} bytes {}, C has {} bytes {}",
                t.rust,
                t.c,
                t.size,
                if t.signed { "signed" } else { "unsigned" },
                size,
                if signed { "signed" } else { "unsigned" }
            )),
            None => problems.push(format!("type `{}`: not printed by the C program", t.rust)),
        }
    }
    // Under _FILE_OFFSET_BITS=64 glibc binds some names to their `*64`
    // symbols even on 64-bit targets (posix_fallocate -> posix_fallocate64),
    // where off_t already is off64_t. Linking the plain name is equivalent
    // there, and only there: a 32-bit target needs the `*64` symbol.
    let lfs_noop = cfg!(target_pointer_width = "64");
    let mut notes: Vec<String> = Vec::new();
    if !from_uapi.is_empty() {
        notes.push(format!(
            "note: the C library's headers lack {}; compared with the kernel uapi headers",
            from_uapi.join(", ")
        ));
    }
    match dlsym_skipped {
        Some(why) => println!(
            "abi: link-name check SKIPPED: dlsym cannot look up symbols in this C program \
             (static linking?): {}",
            why
        ),
        None => {
            for f in &funcs {
                match c_syms.get(f.name).copied() {
                    Some("same") => {}
                    Some("same64") if lfs_noop => notes.push(format!(
                        "note: the headers bind `{0}` to `{1}64` under _FILE_OFFSET_BITS=64; \
                         memseg links `{1}`, which on this 64-bit target takes the same \
                         64-bit off_t (checked above), so the two are equivalent",
                        f.name, f.link_name
                    )),
                    Some("same64") => problems.push(format!(
                        "function `{0}`: memseg links `{1}`, but the C headers bind `{0}` to \
                         `{1}64` (the large-file variant)",
                        f.name, f.link_name
                    )),
                    Some("missing") => problems.push(format!(
                        "function `{}`: memseg links `{}`, which the C library does not export",
                        f.name, f.link_name
                    )),
                    Some(other) => problems.push(format!(
                        "function `{}`: memseg links `{}`, but the C headers bind `{}` to a \
                         different symbol ({})",
                        f.name,
                        f.link_name,
                        f.name,
                        other.trim_start_matches("other:")
                    )),
                    None => problems.push(format!(
                        "function `{}`: not checked by the C program",
                        f.name
                    )),
                }
            }
        }
    }

    for note in &notes {
        println!("abi: {}", note);
    }
    assert!(
        problems.is_empty(),
        "abi: memseg::sys disagrees with the C headers ({} problem(s)):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
    println!(
        "abi: compared {} constants, {} types, {} functions with the C headers ({} via {}{})",
        consts.len(),
        n_types,
        funcs.len(),
        cc,
        cc_from,
        if dlsym_skipped.is_some() {
            "; link names not checked"
        } else {
            ""
        }
    );
}

/// Copies the generated source next to the temp dir (which is removed on
/// drop) so a failure can be reproduced, and returns where it went.
fn keep(dir: &TempDir, src: &Path) -> String {
    let mut kept = OsString::from(dir.0.as_os_str());
    kept.push(".c");
    let kept = PathBuf::from(kept);
    match fs::copy(src, &kept) {
        Ok(_) => kept.display().to_string(),
        Err(e) => format!("(could not keep it: {})", e),
    }
}
