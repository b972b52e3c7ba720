//! Parity of `memseg::sys` with the `libc` crate, checked at compile time for
//! the target being built: every constant's value and type, every C type, and
//! every function's full signature (including C varargs).
//!
//! `cargo check --target T` is the test: a disagreement is a compile error
//! that names the item, and so is an item `memseg::sys` declares for T that
//! the lists below leave out (so nothing new slips past unchecked).
//! `.ci/parity.sh` runs it for every supported target; `cargo test` here
//! repeats the completeness check on the host with a friendlier message.
//!
//! How each kind of item is compared:
//!
//! - constants: `assert!(memseg::sys::X == libc::X)` in a `const`, which
//!   also requires the two to have the same Rust type;
//! - types: an identity `fn(memseg::sys::T) -> libc::T` only type-checks
//!   when the two are the same type (this also covers size and signedness;
//!   the size is asserted separately for a clearer message);
//! - functions: `[memseg::sys::f, libc::f]` is an array, so both fn items
//!   must coerce to one fn-pointer type: identical parameter types, return
//!   type, ABI, `unsafe` and varargs.
//!
//! Where libc spells a C item differently, the `l` module below maps it, in
//! one place, with the reason.

use memseg::sys as m;

/// The libc crate as memseg's declarations should match it: `libc::*`, plus
/// the few names under which libc exposes the same C item differently.
mod l {
    pub use libc::*;

    // 32-bit glibc: memseg's off_t is always 64 bits, and it links mmap and
    // posix_fallocate to their `*64` symbols (memseg_lfs64), so it must match
    // libc's LFS declarations, not the 32-bit-off_t ones. (An explicit `use`
    // shadows the glob above.)
    #[cfg(all(target_os = "linux", target_env = "gnu", target_pointer_width = "32"))]
    pub use libc::{mmap64 as mmap, off64_t as off_t, posix_fallocate64 as posix_fallocate};
}

/// Checks constants, types and functions, and records their names.
///
/// Each name is written once; it is looked up both in `memseg::sys` and in
/// `l` (libc).
macro_rules! parity {
    (
        constants { $($c:ident),* $(,)? }
        $(arch_constants($arch:meta) { $($a:ident),* $(,)? })?
        types { $($t:ident),* $(,)? }
        functions { $($f:ident),* $(,)? }
    ) => {
        $($(
            #[cfg($arch)]
            const _: () = assert!(
                m::$a == l::$a,
                concat!("memseg::sys::", stringify!($a), " differs from libc's")
            );
        )*)?
        /// Constants compared with libc only on some architectures of this OS.
        pub const CHECKED_ARCH_CONSTANTS: &[&str] = &[
            $($( #[cfg($arch)] stringify!($a) ),*)?
        ];
        $(
            const _: () = assert!(
                m::$c == l::$c,
                concat!("memseg::sys::", stringify!($c), " differs from libc's")
            );
        )*
        $(
            const _: fn(m::$t) -> l::$t = |x| x;
            const _: () = assert!(
                std::mem::size_of::<m::$t>() == std::mem::size_of::<l::$t>(),
                concat!("memseg::sys::", stringify!($t), " has a different size from libc's")
            );
        )*
        $(
            const _: () = {
                let _ = [m::$f, l::$f];
            };
        )*
        /// Every constant compared with libc on this target.
        pub const CHECKED_CONSTANTS: &[&str] = &[$(stringify!($c)),*];
        /// Every C type compared with libc on this target.
        pub const CHECKED_TYPES: &[&str] = &[$(stringify!($t)),*];
        /// Every function whose signature was compared with libc on this target.
        pub const CHECKED_FUNCTIONS: &[&str] = &[$(stringify!($f)),*];
    };
}

#[cfg(target_os = "linux")]
parity! {
    constants {
        PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC,
        MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE, MAP_FIXED, MAP_ANONYMOUS,
        MAP_POPULATE, MAP_NONBLOCK, MAP_STACK, MAP_HUGETLB, MAP_SYNC,
        MAP_FIXED_NOREPLACE, MAP_HUGE_SHIFT, MAP_HUGE_MASK, MAP_NORESERVE, MAP_LOCKED,
        MS_ASYNC, MS_INVALIDATE, MS_SYNC,
        MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
        MADV_FREE, MADV_REMOVE, MADV_DONTFORK, MADV_DOFORK, MADV_MERGEABLE,
        MADV_UNMERGEABLE, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP, MADV_DODUMP,
        MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_COLD, MADV_PAGEOUT,
        MADV_POPULATE_READ, MADV_POPULATE_WRITE,
        MREMAP_MAYMOVE, MREMAP_FIXED,
        O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_CLOEXEC, O_NOFOLLOW,
        O_NONBLOCK,
        F_ADD_SEALS, F_GET_SEALS, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE,
        F_SEAL_FUTURE_WRITE,
        MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_HUGETLB, MFD_HUGE_SHIFT,
        _SC_PAGESIZE,
        SYS_memfd_create, SYS_mlock2, MAP_GROWSDOWN, MADV_HWPOISON,
        MLOCK_ONFAULT, MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT,
        EPERM, ENOENT, EINTR, EBADF, EAGAIN, ENOMEM, EACCES, EFAULT, EBUSY, EEXIST,
        ENODEV, EINVAL, ETXTBSY, EFBIG, ENOSPC, ENAMETOOLONG, ENOSYS, EOVERFLOW,
        EOPNOTSUPP,
    }
    arch_constants(any(target_arch = "x86", target_arch = "x86_64")) { MAP_32BIT }
    types { c_char, c_int, c_uint, c_long, size_t, off_t, mode_t }
    functions {
        mmap, munmap, msync, madvise, mprotect, mlock, munlock, mremap,
        shm_open, shm_unlink, fcntl, posix_fallocate, sysconf, syscall,
        mlockall, munlockall,
    }
}

#[cfg(any(target_os = "macos", target_os = "ios"))]
parity! {
    constants {
        PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC,
        MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_NORESERVE, MAP_NOCACHE, MAP_ANONYMOUS,
        MS_ASYNC, MS_INVALIDATE, MS_SYNC,
        MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
        MADV_FREE, MADV_ZERO_WIRED_PAGES, MADV_FREE_REUSABLE, MADV_FREE_REUSE,
        MADV_CAN_REUSE, MCL_CURRENT, MCL_FUTURE,
        O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_EXCL, O_CLOEXEC,
        _SC_PAGESIZE,
        EPERM, ENOENT, EINTR, EBADF, ENOMEM, EACCES, EFAULT, EBUSY, EEXIST, ENODEV,
        EINVAL, ETXTBSY, EFBIG, ENOSPC, EAGAIN, ENAMETOOLONG, ENOSYS, EOVERFLOW,
        EOPNOTSUPP,
    }
    types { c_char, c_int, c_uint, c_long, size_t, off_t, mode_t }
    functions {
        mmap, munmap, msync, madvise, mprotect, mlock, munlock,
        shm_open, shm_unlink, fcntl, sysconf, mlockall, munlockall,
    }
}

#[cfg(target_os = "freebsd")]
parity! {
    constants {
        PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC,
        MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_NOSYNC, MAP_ANONYMOUS, MAP_EXCL,
        MAP_NOCORE, MAP_PREFAULT_READ, MAP_ALIGNED_SUPER,
        MS_SYNC, MS_ASYNC, MS_INVALIDATE,
        MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED,
        MADV_FREE, MADV_NOSYNC, MADV_AUTOSYNC, MADV_NOCORE, MADV_CORE,
        MCL_CURRENT, MCL_FUTURE,
        O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_EXCL, O_CLOEXEC,
        F_ADD_SEALS, F_GET_SEALS, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE,
        MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_HUGETLB,
        _SC_PAGESIZE,
        EPERM, ENOENT, EINTR, EBADF, ENOMEM, EACCES, EFAULT, EBUSY, EEXIST, ENODEV,
        EINVAL, ETXTBSY, EFBIG, ENOSPC, EAGAIN, EOPNOTSUPP, ENAMETOOLONG, ENOSYS,
        EOVERFLOW,
    }
    types { c_char, c_int, c_uint, c_long, size_t, off_t, mode_t }
    functions {
        mmap, munmap, msync, madvise, mprotect, mlock, munlock,
        shm_open, shm_unlink, fcntl, posix_fallocate, memfd_create, sysconf,
        mlockall, munlockall,
    }
}

/// Whether two strings are equal, in a `const` context.
const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether `name` is in `list`, in a `const` context.
const fn listed(list: &[&str], name: &str) -> bool {
    let mut i = 0;
    while i < list.len() {
        if str_eq(list[i], name) {
            return true;
        }
        i += 1;
    }
    false
}

/// Every constant table memseg::sys declares for this target: the ones
/// every platform shares, then the platform's own.
const CONST_TABLES: [&[&[m::Const]]; 2] = [&[m::COMMON], m::TABLES];
/// Every function table memseg::sys declares for this target.
const FUNCTION_TABLES: [&[&[m::Func]]; 2] = [&[m::FUNCTIONS], m::FUNCTION_TABLES];

/// Panics (at compile time) with the name of the first item memseg::sys
/// declares for this target that the parity! lists above do not compare.
const fn every_sys_item_listed() {
    let mut g = 0;
    while g < CONST_TABLES.len() {
        every_const_listed(CONST_TABLES[g]);
        g += 1;
    }
    let mut g = 0;
    while g < FUNCTION_TABLES.len() {
        every_func_listed(FUNCTION_TABLES[g]);
        g += 1;
    }
}

/// Panics with the name of the first constant in `tables` not listed.
const fn every_const_listed(tables: &[&[m::Const]]) {
    let mut t = 0;
    while t < tables.len() {
        let table = tables[t];
        let mut i = 0;
        while i < table.len() {
            if !listed(CHECKED_CONSTANTS, table[i].name)
                && !listed(CHECKED_ARCH_CONSTANTS, table[i].name)
            {
                panic!("{}", table[i].name);
            }
            i += 1;
        }
        t += 1;
    }
}

/// Panics with the name of the first function in `tables` not listed.
const fn every_func_listed(tables: &[&[m::Func]]) {
    let mut t = 0;
    while t < tables.len() {
        let table = tables[t];
        let mut i = 0;
        while i < table.len() {
            if !listed(CHECKED_FUNCTIONS, table[i].name) {
                panic!("{}", table[i].name);
            }
            i += 1;
        }
        t += 1;
    }
}

// Completeness on every target, not only the host: an error here names an
// item memseg::sys declares that the parity! list above lacks; add it there.
const _: () = every_sys_item_listed(); // <- the panic message is the missing name

#[cfg(test)]
mod tests {
    use super::{CHECKED_ARCH_CONSTANTS, CHECKED_CONSTANTS, CHECKED_FUNCTIONS};

    /// Every item memseg declares for the host was compared with libc above.
    #[test]
    fn every_sys_item_is_checked() {
        let consts: Vec<&str> = memseg::sys::constants()
            .iter()
            .map(|c| c.name)
            .filter(|n| !CHECKED_CONSTANTS.contains(n) && !CHECKED_ARCH_CONSTANTS.contains(n))
            .collect();
        let funcs: Vec<&str> = memseg::sys::functions()
            .iter()
            .map(|f| f.name)
            .filter(|n| !CHECKED_FUNCTIONS.contains(n))
            .collect();
        assert!(
            consts.is_empty() && funcs.is_empty(),
            "memseg::sys declares items tests/parity does not compare with libc:\n  \
             constants: {:?}\n  functions: {:?}\nadd them to the parity! list in \
             tests/parity/src/lib.rs",
            consts,
            funcs
        );
        println!(
            "parity: {} constants, {} functions of memseg::sys checked against libc",
            CHECKED_CONSTANTS.len(),
            CHECKED_FUNCTIONS.len()
        );
    }
}
