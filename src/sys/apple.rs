//! macOS (Darwin), x86_64 and aarch64.
//!
//! Values come from the SDK's `<sys/mman.h>`, `<sys/fcntl.h>`, `<sys/errno.h>`
//! and `<unistd.h>`; `tests/parity` checks each against the libc crate.
//! macOS has no memfd, no seals, no `mremap`, no `posix_fallocate`.

use super::{c_char, c_int};

/// C `mode_t` (16 bits on Darwin; passed to variadic `shm_open` promoted to
/// `c_uint`).
pub type mode_t = u16;

constants! { PLATFORM:
    MAP_NORESERVE: c_int = 0x0040;
    MAP_NOCACHE: c_int = 0x0400;
    MAP_ANONYMOUS: c_int = 0x1000;

    MS_SYNC: c_int = 0x0010;

    MADV_FREE: c_int = 5;
    MADV_ZERO_WIRED_PAGES: c_int = 6;
    MADV_FREE_REUSABLE: c_int = 7;
    MADV_FREE_REUSE: c_int = 8;
    MADV_CAN_REUSE: c_int = 9;

    MCL_CURRENT: c_int = 0x01;
    MCL_FUTURE: c_int = 0x02;

    O_CREAT: c_int = 0x0200;
    O_TRUNC: c_int = 0x0400;
    O_EXCL: c_int = 0x0800;
    O_CLOEXEC: c_int = 0x0100_0000;

    _SC_PAGESIZE: c_int = 29;

    EAGAIN: c_int = 35;
    ENAMETOOLONG: c_int = 63;
    ENOSYS: c_int = 78;
    EOVERFLOW: c_int = 84;
    EOPNOTSUPP: c_int = 102;
}

functions! { PLATFORM_FUNCTIONS:
    // Darwin declares `int shm_open(const char *, int, ...)`: the mode is a
    // variadic argument, so it must be passed as a promoted `c_uint`.
    fn shm_open(name: *const c_char, oflag: c_int; ...) -> c_int;
}

/// Every constant table of this platform.
pub const TABLES: &[&[super::Const]] = &[PLATFORM];
/// Every function table of this platform.
pub const FUNCTION_TABLES: &[&[super::Func]] = &[PLATFORM_FUNCTIONS];
