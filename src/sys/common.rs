//! The declarations that are the same on every supported platform: POSIX
//! fixes these values and prototypes, and Linux, macOS and FreeBSD agree.
//! Anything that differs anywhere lives in the platform file instead.

use super::{c_char, c_int, c_long, c_void, off_t, size_t};

constants! { COMMON:
    PROT_NONE: c_int = 0;
    PROT_READ: c_int = 1;
    PROT_WRITE: c_int = 2;
    PROT_EXEC: c_int = 4;

    MAP_SHARED: c_int = 0x01;
    MAP_PRIVATE: c_int = 0x02;
    MAP_FIXED: c_int = 0x10;

    MS_ASYNC: c_int = 1;
    MS_INVALIDATE: c_int = 2;

    MADV_NORMAL: c_int = 0;
    MADV_RANDOM: c_int = 1;
    MADV_SEQUENTIAL: c_int = 2;
    MADV_WILLNEED: c_int = 3;
    MADV_DONTNEED: c_int = 4;

    O_RDONLY: c_int = 0;
    O_WRONLY: c_int = 1;
    O_RDWR: c_int = 2;

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
}

functions! { FUNCTIONS:
    // 32-bit glibc (memseg_lfs64, set only there): the headers bind mmap to
    // mmap64 under _FILE_OFFSET_BITS=64, so offsets past 2 GiB work.
    [memseg_lfs64] fn mmap(addr: *mut c_void, len: size_t, prot: c_int, flags: c_int, fd: c_int, offset: off_t) -> *mut c_void;
    fn munmap(addr: *mut c_void, len: size_t) -> c_int;
    fn msync(addr: *mut c_void, len: size_t, flags: c_int) -> c_int;
    fn madvise(addr: *mut c_void, len: size_t, advice: c_int) -> c_int;
    fn mprotect(addr: *mut c_void, len: size_t, prot: c_int) -> c_int;
    fn mlock(addr: *const c_void, len: size_t) -> c_int;
    fn munlock(addr: *const c_void, len: size_t) -> c_int;
    fn mlockall(flags: c_int) -> c_int;
    fn munlockall() -> c_int;
    fn shm_unlink(name: *const c_char) -> c_int;
    // 32-bit glibc's <fcntl.h> binds fcntl to fcntl64 under
    // _FILE_OFFSET_BITS=64 (glibc 2.28+); memseg follows the headers so the
    // struct-flock commands would also be the 64-bit ones.
    [memseg_lfs64] fn fcntl(fd: c_int, cmd: c_int; ...) -> c_int;
    fn sysconf(name: c_int) -> c_long;
}
