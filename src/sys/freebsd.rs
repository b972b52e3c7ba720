//! FreeBSD 13 and later, x86_64.
//!
//! Values come from FreeBSD's `<sys/mman.h>`, `<sys/fcntl.h>`, `<sys/errno.h>`
//! and `<unistd.h>`; `tests/parity` checks each against the libc crate.
//! FreeBSD has memfd and seals (13+), `posix_fallocate`, but no `mremap` and
//! no `MAP_NORESERVE`/`MAP_POPULATE` (`MAP_PREFAULT_READ` is the nearest).

use super::{c_char, c_int, c_uint, off_t};

/// C `mode_t` (16 bits on FreeBSD).
pub type mode_t = u16;

constants! { PLATFORM:
    MAP_NOSYNC: c_int = 0x0800;
    MAP_ANONYMOUS: c_int = 0x1000;
    MAP_EXCL: c_int = 0x4000;
    MAP_NOCORE: c_int = 0x0002_0000;
    MAP_PREFAULT_READ: c_int = 0x0004_0000;
    MAP_ALIGNED_SUPER: c_int = 1 << 24;

    MS_SYNC: c_int = 0x0000;

    MADV_FREE: c_int = 5;
    MADV_NOSYNC: c_int = 6;
    MADV_AUTOSYNC: c_int = 7;
    MADV_NOCORE: c_int = 8;
    MADV_CORE: c_int = 9;

    MCL_CURRENT: c_int = 0x01;
    MCL_FUTURE: c_int = 0x02;

    O_CREAT: c_int = 0x0200;
    O_TRUNC: c_int = 0x0400;
    O_EXCL: c_int = 0x0800;
    O_CLOEXEC: c_int = 0x0010_0000;

    F_ADD_SEALS: c_int = 19;
    F_GET_SEALS: c_int = 20;
    F_SEAL_SEAL: c_int = 0x01;
    F_SEAL_SHRINK: c_int = 0x02;
    F_SEAL_GROW: c_int = 0x04;
    F_SEAL_WRITE: c_int = 0x08;

    MFD_CLOEXEC: c_uint = 0x01;
    MFD_ALLOW_SEALING: c_uint = 0x02;
    MFD_HUGETLB: c_uint = 0x04;

    _SC_PAGESIZE: c_int = 47;

    EAGAIN: c_int = 35;
    EOPNOTSUPP: c_int = 45;
    ENAMETOOLONG: c_int = 63;
    ENOSYS: c_int = 78;
    EOVERFLOW: c_int = 84;
}

functions! { PLATFORM_FUNCTIONS:
    fn shm_open(name: *const c_char, oflag: c_int, mode: mode_t) -> c_int;
    fn posix_fallocate(fd: c_int, offset: off_t, len: off_t) -> c_int;
    fn memfd_create(name: *const c_char, flags: c_uint) -> c_int;
}

/// Every constant table of this platform.
pub const TABLES: &[&[super::Const]] = &[PLATFORM];
/// Every function table of this platform.
pub const FUNCTION_TABLES: &[&[super::Func]] = &[PLATFORM_FUNCTIONS];
