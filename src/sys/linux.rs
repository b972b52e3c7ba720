//! Linux, glibc and musl: x86_64, i686, aarch64, armv7, riscv64,
//! powerpc64le, s390x.
//!
//! Values come from the kernel's uapi headers (`asm-generic/mman-common.h`,
//! `asm-generic/fcntl.h`, `asm-generic/errno-base.h`, `linux/memfd.h`) and
//! glibc/musl's `<unistd.h>`; `tests/abi.rs` re-checks each against the host's
//! real headers and `tests/parity` against the libc crate on every target.

use super::{c_char, c_int, c_long, c_void, off_t, size_t};

/// C `mode_t`.
pub type mode_t = u32;

constants! { PLATFORM:
    MAP_SHARED_VALIDATE: c_int = 0x03;
    MAP_ANONYMOUS: c_int = 0x20;
    MAP_POPULATE: c_int = 0x8000;
    MAP_NONBLOCK: c_int = 0x10000;
    MAP_STACK: c_int = 0x20000;
    MAP_HUGETLB: c_int = 0x40000;
    MAP_SYNC: c_int = 0x80000;
    MAP_FIXED_NOREPLACE: c_int = 0x100000;
    MAP_GROWSDOWN: c_int = 0x0100;
    MAP_HUGE_SHIFT: c_int = 26;
    MAP_HUGE_MASK: c_int = 0x3f;

    MS_SYNC: c_int = 4;

    MADV_FREE: c_int = 8;
    MADV_REMOVE: c_int = 9;
    MADV_DONTFORK: c_int = 10;
    MADV_DOFORK: c_int = 11;
    MADV_MERGEABLE: c_int = 12;
    MADV_UNMERGEABLE: c_int = 13;
    MADV_HUGEPAGE: c_int = 14;
    MADV_NOHUGEPAGE: c_int = 15;
    MADV_DONTDUMP: c_int = 16;
    MADV_DODUMP: c_int = 17;
    MADV_WIPEONFORK: c_int = 18;
    MADV_KEEPONFORK: c_int = 19;
    MADV_COLD: c_int = 20;
    MADV_PAGEOUT: c_int = 21;
    MADV_POPULATE_READ: c_int = 22;
    MADV_POPULATE_WRITE: c_int = 23;
    MADV_HWPOISON: c_int = 100;

    MLOCK_ONFAULT: c_uint = 0x01;

    MREMAP_MAYMOVE: c_int = 1;
    MREMAP_FIXED: c_int = 2;

    O_CREAT: c_int = 0x40;
    O_EXCL: c_int = 0x80;
    O_TRUNC: c_int = 0x200;
    O_NONBLOCK: c_int = 0x800;
    O_CLOEXEC: c_int = 0x80000;

    F_ADD_SEALS: c_int = 1033;
    F_GET_SEALS: c_int = 1034;
    F_SEAL_SEAL: c_int = 0x01;
    F_SEAL_SHRINK: c_int = 0x02;
    F_SEAL_GROW: c_int = 0x04;
    F_SEAL_WRITE: c_int = 0x08;
    F_SEAL_FUTURE_WRITE: c_int = 0x10;

    MFD_CLOEXEC: c_uint = 0x01;
    MFD_ALLOW_SEALING: c_uint = 0x02;
    MFD_HUGETLB: c_uint = 0x04;
    MFD_HUGE_SHIFT: c_uint = 26;

    _SC_PAGESIZE: c_int = 30;

    EAGAIN: c_int = 11;
    ENAMETOOLONG: c_int = 36;
    ENOSYS: c_int = 38;
    EOVERFLOW: c_int = 75;
    EOPNOTSUPP: c_int = 95;
}

/// powerpc numbers some mman flags differently (`arch/powerpc/include/uapi/asm/mman.h`).
#[cfg(target_arch = "powerpc64")]
mod mman_arch {
    constants! { MMAN_ARCH:
        MAP_NORESERVE: c_int = 0x40;
        MAP_LOCKED: c_int = 0x80;
        MCL_CURRENT: c_int = 0x2000;
        MCL_FUTURE: c_int = 0x4000;
        MCL_ONFAULT: c_int = 0x8000;
    }
}
#[cfg(not(target_arch = "powerpc64"))]
mod mman_arch {
    constants! { MMAN_ARCH:
        MAP_NORESERVE: c_int = 0x4000;
        MAP_LOCKED: c_int = 0x2000;
        MCL_CURRENT: c_int = 0x01;
        MCL_FUTURE: c_int = 0x02;
        MCL_ONFAULT: c_int = 0x04;
    }
}
pub use mman_arch::*;

/// arm, aarch64 and powerpc move `O_NOFOLLOW` (their `asm/fcntl.h`).
#[cfg(any(
    target_arch = "arm",
    target_arch = "aarch64",
    target_arch = "powerpc64"
))]
mod fcntl_arch {
    constants! { FCNTL_ARCH:
        O_NOFOLLOW: c_int = 0x8000;
    }
}
#[cfg(not(any(
    target_arch = "arm",
    target_arch = "aarch64",
    target_arch = "powerpc64"
)))]
mod fcntl_arch {
    constants! { FCNTL_ARCH:
        O_NOFOLLOW: c_int = 0x20000;
    }
}
pub use fcntl_arch::*;

/// The `memfd_create` and `mlock2` system call numbers (each arch's
/// `unistd.h`). memseg makes these system calls directly, so they work with a
/// C library that has no wrapper (glibc before 2.27) and need no weak-symbol
/// tricks.
mod syscall_arch {
    #[cfg(target_arch = "x86_64")]
    constants! { SYSCALL_ARCH:
        SYS_memfd_create: c_long = 319;
        SYS_mlock2: c_long = 325;
    }
    #[cfg(target_arch = "x86")]
    constants! { SYSCALL_ARCH:
        SYS_memfd_create: c_long = 356;
        SYS_mlock2: c_long = 376;
    }
    #[cfg(any(target_arch = "aarch64", target_arch = "riscv64"))]
    constants! { SYSCALL_ARCH:
        SYS_memfd_create: c_long = 279;
        SYS_mlock2: c_long = 284;
    }
    #[cfg(target_arch = "arm")]
    constants! { SYSCALL_ARCH:
        SYS_memfd_create: c_long = 385;
        SYS_mlock2: c_long = 390;
    }
    #[cfg(target_arch = "powerpc64")]
    constants! { SYSCALL_ARCH:
        SYS_memfd_create: c_long = 360;
        SYS_mlock2: c_long = 378;
    }
    #[cfg(target_arch = "s390x")]
    constants! { SYSCALL_ARCH:
        SYS_memfd_create: c_long = 350;
        SYS_mlock2: c_long = 374;
    }
}
pub use syscall_arch::*;

/// `MAP_32BIT` exists only on x86 (`arch/x86/include/uapi/asm/mman.h`).
mod x86_arch {
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    constants! { X86_ARCH:
        MAP_32BIT: c_int = 0x40;
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "x86")))]
    constants! { X86_ARCH: }
}
pub use x86_arch::*;

functions! { PLATFORM_FUNCTIONS:
    fn mremap(addr: *mut c_void, old_len: size_t, new_len: size_t, flags: c_int; ...) -> *mut c_void;
    fn shm_open(name: *const c_char, oflag: c_int, mode: mode_t) -> c_int;
    [memseg_lfs64] fn posix_fallocate(fd: c_int, offset: off_t, len: off_t) -> c_int;
    fn syscall(number: c_long; ...) -> c_long;
}

/// Every constant table of this platform.
pub const TABLES: &[&[super::Const]] = &[PLATFORM, MMAN_ARCH, FCNTL_ARCH, SYSCALL_ARCH, X86_ARCH];
/// Every function table of this platform.
pub const FUNCTION_TABLES: &[&[super::Func]] = &[PLATFORM_FUNCTIONS];
