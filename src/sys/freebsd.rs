//! FreeBSD 13 and later, x86_64.
//!
//! Values come from FreeBSD's `<sys/mman.h>`, `<sys/fcntl.h>`, `<sys/errno.h>`
//! and `<unistd.h>`; `tests/parity` checks each against the libc crate.
//! FreeBSD has memfd and seals (13+), `posix_fallocate`, but no `mremap` and
//! no `MAP_NORESERVE`/`MAP_POPULATE` (`MAP_PREFAULT_READ` is the nearest).

use super::{c_char, c_int, c_long, c_uint, c_void, off_t, size_t};

/// C `mode_t` (16 bits on FreeBSD).
pub type mode_t = u16;

constants! { COMMON:
    PROT_NONE: c_int = 0;
    PROT_READ: c_int = 1;
    PROT_WRITE: c_int = 2;
    PROT_EXEC: c_int = 4;

    MAP_SHARED: c_int = 0x0001;
    MAP_PRIVATE: c_int = 0x0002;
    MAP_FIXED: c_int = 0x0010;
    MAP_NOSYNC: c_int = 0x0800;
    MAP_ANONYMOUS: c_int = 0x1000;
    MAP_EXCL: c_int = 0x4000;
    MAP_NOCORE: c_int = 0x0002_0000;
    MAP_PREFAULT_READ: c_int = 0x0004_0000;
    MAP_ALIGNED_SUPER: c_int = 1 << 24;

    MS_SYNC: c_int = 0x0000;
    MS_ASYNC: c_int = 0x0001;
    MS_INVALIDATE: c_int = 0x0002;

    MADV_NORMAL: c_int = 0;
    MADV_RANDOM: c_int = 1;
    MADV_SEQUENTIAL: c_int = 2;
    MADV_WILLNEED: c_int = 3;
    MADV_DONTNEED: c_int = 4;
    MADV_FREE: c_int = 5;
    MADV_NOSYNC: c_int = 6;
    MADV_AUTOSYNC: c_int = 7;
    MADV_NOCORE: c_int = 8;
    MADV_CORE: c_int = 9;

    O_RDONLY: c_int = 0;
    O_WRONLY: c_int = 1;
    O_RDWR: c_int = 2;
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

    EPERM: c_int = 1;
    ENOENT: c_int = 2;
    EINTR: c_int = 4;
    EBADF: c_int = 9;
    ENOMEM: c_int = 12;
    EACCES: c_int = 13;
    EFAULT: c_int = 14;
    EBUSY: c_int = 16;
    EEXIST: c_int = 17;
    ENODEV: c_int = 19;
    EINVAL: c_int = 22;
    ETXTBSY: c_int = 26;
    EFBIG: c_int = 27;
    ENOSPC: c_int = 28;
    EAGAIN: c_int = 35;
    EOPNOTSUPP: c_int = 45;
    ENAMETOOLONG: c_int = 63;
    ENOSYS: c_int = 78;
    EOVERFLOW: c_int = 84;
}

functions! { FUNCTIONS:
    fn mmap(addr: *mut c_void, len: size_t, prot: c_int, flags: c_int, fd: c_int, offset: off_t) -> *mut c_void;
    fn munmap(addr: *mut c_void, len: size_t) -> c_int;
    fn msync(addr: *mut c_void, len: size_t, flags: c_int) -> c_int;
    fn madvise(addr: *mut c_void, len: size_t, advice: c_int) -> c_int;
    fn mprotect(addr: *mut c_void, len: size_t, prot: c_int) -> c_int;
    fn mlock(addr: *const c_void, len: size_t) -> c_int;
    fn munlock(addr: *const c_void, len: size_t) -> c_int;
    fn shm_open(name: *const c_char, oflag: c_int, mode: mode_t) -> c_int;
    fn shm_unlink(name: *const c_char) -> c_int;
    fn fcntl(fd: c_int, cmd: c_int; ...) -> c_int;
    fn posix_fallocate(fd: c_int, offset: off_t, len: off_t) -> c_int;
    fn memfd_create(name: *const c_char, flags: c_uint) -> c_int;
    fn sysconf(name: c_int) -> c_long;
}

/// Every constant table of this platform.
pub const TABLES: &[&[super::Const]] = &[COMMON];
/// Every function table of this platform.
pub const FUNCTION_TABLES: &[&[super::Func]] = &[FUNCTIONS];
