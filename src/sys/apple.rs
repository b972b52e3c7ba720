//! macOS (Darwin), x86_64 and aarch64.
//!
//! Values come from the SDK's `<sys/mman.h>`, `<sys/fcntl.h>`, `<sys/errno.h>`
//! and `<unistd.h>`; `tests/parity` checks each against the libc crate.
//! macOS has no memfd, no seals, no `mremap`, no `posix_fallocate`.

use super::{c_char, c_int, c_long, c_void, off_t, size_t};

/// C `mode_t` (16 bits on Darwin; passed to variadic `shm_open` promoted to
/// `c_uint`).
pub type mode_t = u16;

constants! { COMMON:
    PROT_NONE: c_int = 0;
    PROT_READ: c_int = 1;
    PROT_WRITE: c_int = 2;
    PROT_EXEC: c_int = 4;

    MAP_SHARED: c_int = 0x0001;
    MAP_PRIVATE: c_int = 0x0002;
    MAP_FIXED: c_int = 0x0010;
    MAP_NORESERVE: c_int = 0x0040;
    MAP_NOCACHE: c_int = 0x0400;
    MAP_ANONYMOUS: c_int = 0x1000;

    MS_ASYNC: c_int = 0x0001;
    MS_INVALIDATE: c_int = 0x0002;
    MS_SYNC: c_int = 0x0010;

    MADV_NORMAL: c_int = 0;
    MADV_RANDOM: c_int = 1;
    MADV_SEQUENTIAL: c_int = 2;
    MADV_WILLNEED: c_int = 3;
    MADV_DONTNEED: c_int = 4;
    MADV_FREE: c_int = 5;

    O_RDONLY: c_int = 0;
    O_WRONLY: c_int = 1;
    O_RDWR: c_int = 2;
    O_CREAT: c_int = 0x0200;
    O_TRUNC: c_int = 0x0400;
    O_EXCL: c_int = 0x0800;
    O_CLOEXEC: c_int = 0x0100_0000;

    _SC_PAGESIZE: c_int = 29;

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
    ENAMETOOLONG: c_int = 63;
    ENOSYS: c_int = 78;
    EOVERFLOW: c_int = 84;
    EOPNOTSUPP: c_int = 102;
}

functions! { FUNCTIONS:
    fn mmap(addr: *mut c_void, len: size_t, prot: c_int, flags: c_int, fd: c_int, offset: off_t) -> *mut c_void;
    fn munmap(addr: *mut c_void, len: size_t) -> c_int;
    fn msync(addr: *mut c_void, len: size_t, flags: c_int) -> c_int;
    fn madvise(addr: *mut c_void, len: size_t, advice: c_int) -> c_int;
    fn mprotect(addr: *mut c_void, len: size_t, prot: c_int) -> c_int;
    fn mlock(addr: *const c_void, len: size_t) -> c_int;
    fn munlock(addr: *const c_void, len: size_t) -> c_int;
    // Darwin declares `int shm_open(const char *, int, ...)`: the mode is a
    // variadic argument, so it must be passed as a promoted `c_uint`.
    fn shm_open(name: *const c_char, oflag: c_int; ...) -> c_int;
    fn shm_unlink(name: *const c_char) -> c_int;
    fn fcntl(fd: c_int, cmd: c_int; ...) -> c_int;
    fn sysconf(name: c_int) -> c_long;
}

/// Every constant table of this platform.
pub const TABLES: &[&[super::Const]] = &[COMMON];
/// Every function table of this platform.
pub const FUNCTION_TABLES: &[&[super::Func]] = &[FUNCTIONS];
