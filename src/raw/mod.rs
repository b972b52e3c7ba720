//! The thin unsafe layer: one function per C call, typed flags in,
//! [`io::Result`] out.
//!
//! Nothing here adds policy: these are the C calls with Rust types, the C
//! failure convention turned into `Err` by a helper named after it, and
//! nothing else. The safe façade ([`crate::Mmap`], [`crate::Shm`], ...) is
//! built on these; they are public for code that needs a call the façade does
//! not offer (and for the benchmarks, which measure the façade against them).
//!
//! Failures from the OS are returned as [`io::Error::from_raw_os_error`], so
//! [`io::Error::raw_os_error`] gives the exact errno and
//! [`io::Error::kind`] the matching [`io::ErrorKind`].

#[macro_use]
mod flags;

use crate::sys;
use std::ffi::CStr;
use std::io;
use std::os::unix::io::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

use sys::{c_int, c_void};

flags! {
    /// `PROT_*`: what a mapping's pages may be used for.
    pub struct ProtFlags: c_int {
        /// `PROT_READ`.
        const READ = sys::PROT_READ;
        /// `PROT_WRITE`.
        const WRITE = sys::PROT_WRITE;
        /// `PROT_EXEC`.
        const EXEC = sys::PROT_EXEC;
    }
}

flags! {
    /// `MAP_*`: the `flags` argument of `mmap(2)`.
    pub struct MapFlags: c_int {
        /// `MAP_SHARED`: stores are visible to every mapping of the object
        /// and carried through to the file.
        const SHARED = sys::MAP_SHARED;
        /// `MAP_PRIVATE`: copy-on-write; stores stay in this mapping.
        const PRIVATE = sys::MAP_PRIVATE;
        /// `MAP_SHARED_VALIDATE` (Linux 4.15+): `MAP_SHARED`, but unknown
        /// flags fail with `EOPNOTSUPP` instead of being ignored.
        #[cfg(memseg_linux)]
        const SHARED_VALIDATE = sys::MAP_SHARED_VALIDATE;
        /// `MAP_FIXED`: place the mapping exactly at `addr`, replacing what
        /// was there.
        const FIXED = sys::MAP_FIXED;
        /// `MAP_ANONYMOUS`: not backed by a file; zero-filled.
        const ANONYMOUS = sys::MAP_ANONYMOUS;
        /// `MAP_NORESERVE`: no swap space is reserved (Linux, macOS).
        #[cfg(any(memseg_linux, memseg_apple))]
        const NORESERVE = sys::MAP_NORESERVE;
        /// `MAP_POPULATE` (Linux): pre-fault the pages; errors are not reported.
        #[cfg(memseg_linux)]
        const POPULATE = sys::MAP_POPULATE;
        /// `MAP_NONBLOCK` (Linux): with `MAP_POPULATE`, do no read-ahead.
        #[cfg(memseg_linux)]
        const NONBLOCK = sys::MAP_NONBLOCK;
        /// `MAP_STACK` (Linux): a hint that the mapping is a thread stack.
        #[cfg(memseg_linux)]
        const STACK = sys::MAP_STACK;
        /// `MAP_HUGETLB` (Linux): back the mapping with explicit huge pages.
        #[cfg(memseg_linux)]
        const HUGETLB = sys::MAP_HUGETLB;
        /// `MAP_SYNC` (Linux, with `MAP_SHARED_VALIDATE`, DAX files only).
        #[cfg(memseg_linux)]
        const SYNC = sys::MAP_SYNC;
        /// `MAP_FIXED_NOREPLACE` (Linux 4.17+): like `MAP_FIXED` but fails
        /// with `EEXIST` instead of replacing an existing mapping.
        #[cfg(memseg_linux)]
        const FIXED_NOREPLACE = sys::MAP_FIXED_NOREPLACE;
        /// `MAP_LOCKED` (Linux): lock the pages like `mlock(2)`, best effort.
        #[cfg(memseg_linux)]
        const LOCKED = sys::MAP_LOCKED;
        /// `MAP_GROWSDOWN` (Linux): a stack-like mapping that the kernel
        /// extends downwards when the page below it is touched.
        #[cfg(memseg_linux)]
        const GROWSDOWN = sys::MAP_GROWSDOWN;
        /// `MAP_32BIT` (Linux x86 and x86_64): place the mapping in the
        /// first 2 GiB of the address space.
        #[cfg(all(memseg_linux, any(target_arch = "x86_64", target_arch = "x86")))]
        const _32BIT = sys::MAP_32BIT;
        /// `MAP_NOCACHE` (macOS): pages are the first to be evicted.
        #[cfg(memseg_apple)]
        const NOCACHE = sys::MAP_NOCACHE;
        /// `MAP_NOSYNC` (FreeBSD): dirty pages are not flushed by the syncer.
        #[cfg(memseg_freebsd)]
        const NOSYNC = sys::MAP_NOSYNC;
        /// `MAP_NOCORE` (FreeBSD): leave the pages out of core dumps.
        #[cfg(memseg_freebsd)]
        const NOCORE = sys::MAP_NOCORE;
        /// `MAP_PREFAULT_READ` (FreeBSD): pre-fault resident pages.
        #[cfg(memseg_freebsd)]
        const PREFAULT_READ = sys::MAP_PREFAULT_READ;
        /// `MAP_EXCL` (FreeBSD): with `MAP_FIXED`, fail instead of replacing.
        #[cfg(memseg_freebsd)]
        const EXCL = sys::MAP_EXCL;
        /// `MAP_ALIGNED_SUPER` (FreeBSD): align for superpages.
        #[cfg(memseg_freebsd)]
        const ALIGNED_SUPER = sys::MAP_ALIGNED_SUPER;
    }
}

impl MapFlags {
    /// `MAP_HUGETLB | (log2 << MAP_HUGE_SHIFT)` (Linux): explicit huge pages
    /// of `1 << log2` bytes, e.g. 21 for 2 MiB, 30 for 1 GiB. `None` if
    /// `log2` does not fit `MAP_HUGE_MASK`.
    #[cfg(memseg_linux)]
    pub const fn huge_pages(log2: u32) -> Option<Self> {
        if log2 > sys::MAP_HUGE_MASK as u32 {
            return None;
        }
        Some(Self(
            sys::MAP_HUGETLB | ((log2 as c_int) << sys::MAP_HUGE_SHIFT),
        ))
    }
}

flags! {
    /// `MS_*`: the `flags` argument of `msync(2)`.
    pub struct MsyncFlags: c_int {
        /// `MS_SYNC`: write the dirty pages and wait (0 on FreeBSD).
        const SYNC = sys::MS_SYNC;
        /// `MS_ASYNC`: schedule the write and return.
        const ASYNC = sys::MS_ASYNC;
        /// `MS_INVALIDATE`: drop other mappings' cached copies.
        const INVALIDATE = sys::MS_INVALIDATE;
    }
}

flags! {
    /// `O_*` flags accepted by `shm_open(3)`.
    pub struct OFlags: c_int {
        /// `O_RDONLY` (0: the absence of `O_RDWR`).
        const RDONLY = sys::O_RDONLY;
        /// `O_WRONLY` (`shm_open` does not accept it; here for completeness
        /// of the access modes memseg knows).
        const WRONLY = sys::O_WRONLY;
        /// `O_RDWR`.
        const RDWR = sys::O_RDWR;
        /// `O_CREAT`.
        const CREAT = sys::O_CREAT;
        /// `O_EXCL`.
        const EXCL = sys::O_EXCL;
        /// `O_TRUNC`.
        const TRUNC = sys::O_TRUNC;
        /// `O_NOFOLLOW` (Linux; glibc and musl add it to `shm_open` anyway).
        #[cfg(memseg_linux)]
        const NOFOLLOW = sys::O_NOFOLLOW;
        /// `O_NONBLOCK` (Linux): `open` of a FIFO returns at once instead of
        /// waiting for a writer; no effect on a shared-memory object.
        #[cfg(memseg_linux)]
        const NONBLOCK = sys::O_NONBLOCK;
        /// `O_CLOEXEC`.
        const CLOEXEC = sys::O_CLOEXEC;
    }
}

#[cfg(any(memseg_linux, memseg_freebsd))]
flags! {
    /// `F_SEAL_*`: memfd seals (Linux 3.17+, FreeBSD 13+).
    pub struct SealFlags: c_int {
        /// `F_SEAL_SEAL`: no more seals may be added.
        const SEAL = sys::F_SEAL_SEAL;
        /// `F_SEAL_SHRINK`: the size may not decrease.
        const SHRINK = sys::F_SEAL_SHRINK;
        /// `F_SEAL_GROW`: the size may not increase.
        const GROW = sys::F_SEAL_GROW;
        /// `F_SEAL_WRITE`: the contents may not change (fails with `EBUSY`
        /// while a writable shared mapping exists).
        const WRITE = sys::F_SEAL_WRITE;
        /// `F_SEAL_FUTURE_WRITE` (Linux 5.1+): no new writable mappings or
        /// `write(2)`s; existing writable mappings stay.
        #[cfg(memseg_linux)]
        const FUTURE_WRITE = sys::F_SEAL_FUTURE_WRITE;
    }
}

#[cfg(any(memseg_linux, memseg_freebsd))]
flags! {
    /// `MFD_*`: the `flags` argument of `memfd_create(2)`.
    pub struct MemfdFlags: sys::c_uint {
        /// `MFD_CLOEXEC`.
        const CLOEXEC = sys::MFD_CLOEXEC;
        /// `MFD_ALLOW_SEALING`.
        const ALLOW_SEALING = sys::MFD_ALLOW_SEALING;
        /// `MFD_HUGETLB`.
        const HUGETLB = sys::MFD_HUGETLB;
    }
}

#[cfg(memseg_linux)]
impl MemfdFlags {
    /// `MFD_HUGETLB | (log2 << MFD_HUGE_SHIFT)` (Linux): huge pages of
    /// `1 << log2` bytes. `None` if `log2` does not fit 6 bits.
    pub const fn huge_pages(log2: u32) -> Option<Self> {
        if log2 > sys::MAP_HUGE_MASK as u32 {
            return None;
        }
        Some(Self(sys::MFD_HUGETLB | (log2 << sys::MFD_HUGE_SHIFT)))
    }
}

#[cfg(memseg_linux)]
flags! {
    /// `MREMAP_*`: the `flags` argument of `mremap(2)` (Linux).
    pub struct MremapFlags: c_int {
        /// `MREMAP_MAYMOVE`: the kernel may move the mapping.
        const MAYMOVE = sys::MREMAP_MAYMOVE;
        /// `MREMAP_FIXED`: move it exactly to `new_addr`.
        const FIXED = sys::MREMAP_FIXED;
    }
}

flags! {
    /// `MCL_*`: the `flags` argument of `mlockall(2)`.
    pub struct MlockAllFlags: c_int {
        /// `MCL_CURRENT`: lock every page mapped now.
        const CURRENT = sys::MCL_CURRENT;
        /// `MCL_FUTURE`: lock every page mapped from now on.
        const FUTURE = sys::MCL_FUTURE;
        /// `MCL_ONFAULT` (Linux 4.4+): with the above, lock pages as they
        /// are faulted in rather than all at once.
        #[cfg(memseg_linux)]
        const ONFAULT = sys::MCL_ONFAULT;
    }
}

#[cfg(memseg_linux)]
flags! {
    /// `MLOCK_*`: the `flags` argument of `mlock2(2)` (Linux).
    pub struct MlockFlags: sys::c_uint {
        /// `MLOCK_ONFAULT` (Linux 4.4+): lock pages as they are faulted in.
        const ONFAULT = sys::MLOCK_ONFAULT;
    }
}

values! {
    /// `MADV_*`: the `advice` argument of `madvise(2)`. Some values change
    /// the contents of the pages (`DONTNEED`, `FREE`, `REMOVE`); see
    /// [`madvise`].
    pub struct Advice: c_int {
        /// `MADV_NORMAL`.
        const NORMAL = sys::MADV_NORMAL;
        /// `MADV_RANDOM`.
        const RANDOM = sys::MADV_RANDOM;
        /// `MADV_SEQUENTIAL`.
        const SEQUENTIAL = sys::MADV_SEQUENTIAL;
        /// `MADV_WILLNEED`.
        const WILLNEED = sys::MADV_WILLNEED;
        /// `MADV_DONTNEED` (Linux: private pages read back as zero or as the
        /// file's contents).
        const DONTNEED = sys::MADV_DONTNEED;
        /// `MADV_FREE`: the kernel may discard the pages lazily.
        const FREE = sys::MADV_FREE;
        /// `MADV_REMOVE` (Linux): free the backing store (punch a hole).
        #[cfg(memseg_linux)]
        const REMOVE = sys::MADV_REMOVE;
        /// `MADV_DONTFORK` (Linux).
        #[cfg(memseg_linux)]
        const DONTFORK = sys::MADV_DONTFORK;
        /// `MADV_DOFORK` (Linux).
        #[cfg(memseg_linux)]
        const DOFORK = sys::MADV_DOFORK;
        /// `MADV_MERGEABLE` (Linux, KSM).
        #[cfg(memseg_linux)]
        const MERGEABLE = sys::MADV_MERGEABLE;
        /// `MADV_UNMERGEABLE` (Linux, KSM).
        #[cfg(memseg_linux)]
        const UNMERGEABLE = sys::MADV_UNMERGEABLE;
        /// `MADV_HUGEPAGE` (Linux, transparent huge pages).
        #[cfg(memseg_linux)]
        const HUGEPAGE = sys::MADV_HUGEPAGE;
        /// `MADV_NOHUGEPAGE` (Linux).
        #[cfg(memseg_linux)]
        const NOHUGEPAGE = sys::MADV_NOHUGEPAGE;
        /// `MADV_DONTDUMP` (Linux).
        #[cfg(memseg_linux)]
        const DONTDUMP = sys::MADV_DONTDUMP;
        /// `MADV_DODUMP` (Linux).
        #[cfg(memseg_linux)]
        const DODUMP = sys::MADV_DODUMP;
        /// `MADV_WIPEONFORK` (Linux 4.14+): a forked child sees zeros.
        #[cfg(memseg_linux)]
        const WIPEONFORK = sys::MADV_WIPEONFORK;
        /// `MADV_KEEPONFORK` (Linux 4.14+).
        #[cfg(memseg_linux)]
        const KEEPONFORK = sys::MADV_KEEPONFORK;
        /// `MADV_COLD` (Linux 5.4+).
        #[cfg(memseg_linux)]
        const COLD = sys::MADV_COLD;
        /// `MADV_PAGEOUT` (Linux 5.4+).
        #[cfg(memseg_linux)]
        const PAGEOUT = sys::MADV_PAGEOUT;
        /// `MADV_POPULATE_READ` (Linux 5.14+): fault pages in, reporting errors.
        #[cfg(memseg_linux)]
        const POPULATE_READ = sys::MADV_POPULATE_READ;
        /// `MADV_POPULATE_WRITE` (Linux 5.14+): fault pages in writable,
        /// reporting errors (`ENOMEM`, `EFAULT`) instead of a later SIGBUS.
        #[cfg(memseg_linux)]
        const POPULATE_WRITE = sys::MADV_POPULATE_WRITE;
        /// `MADV_HWPOISON` (Linux, `CAP_SYS_ADMIN`): poison the pages as if
        /// the memory had failed; touching them raises SIGBUS.
        #[cfg(memseg_linux)]
        const HWPOISON = sys::MADV_HWPOISON;
        /// `MADV_ZERO_WIRED_PAGES` (macOS): zero wired pages when unmapped.
        #[cfg(memseg_apple)]
        const ZERO_WIRED_PAGES = sys::MADV_ZERO_WIRED_PAGES;
        /// `MADV_FREE_REUSABLE` (macOS): the pages may be reused; their
        /// contents are lost.
        #[cfg(memseg_apple)]
        const FREE_REUSABLE = sys::MADV_FREE_REUSABLE;
        /// `MADV_FREE_REUSE` (macOS): the pages are in use again.
        #[cfg(memseg_apple)]
        const FREE_REUSE = sys::MADV_FREE_REUSE;
        /// `MADV_CAN_REUSE` (macOS).
        #[cfg(memseg_apple)]
        const CAN_REUSE = sys::MADV_CAN_REUSE;
        /// `MADV_NOSYNC` (FreeBSD).
        #[cfg(memseg_freebsd)]
        const NOSYNC = sys::MADV_NOSYNC;
        /// `MADV_AUTOSYNC` (FreeBSD).
        #[cfg(memseg_freebsd)]
        const AUTOSYNC = sys::MADV_AUTOSYNC;
        /// `MADV_NOCORE` (FreeBSD).
        #[cfg(memseg_freebsd)]
        const NOCORE = sys::MADV_NOCORE;
        /// `MADV_CORE` (FreeBSD).
        #[cfg(memseg_freebsd)]
        const CORE = sys::MADV_CORE;
    }
}

/// Converts the "-1 and errno" convention (`munmap`, `msync`, `shm_open`,
/// `fcntl`, ...): any negative value is a failure whose cause is in errno.
fn cvt(ret: c_int) -> io::Result<c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Converts the "returns the error number" convention (`posix_fallocate`,
/// `posix_madvise`): non-zero *is* the error, errno is untouched.
#[cfg(any(memseg_linux, memseg_freebsd))]
fn cvt_nz(ret: c_int) -> io::Result<()> {
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(ret))
    }
}

/// Converts `mmap`/`mremap`'s convention: `MAP_FAILED` (all bits set, not
/// null) is a failure whose cause is in errno.
fn cvt_map(ptr: *mut c_void) -> io::Result<NonNull<c_void>> {
    if ptr as usize == usize::MAX {
        return Err(io::Error::last_os_error());
    }
    // Without MAP_FIXED at 0 the kernel never returns address 0; if it did,
    // the mapping would be unusable as a Rust pointer, so treat it as ENOMEM
    // (the caller unmaps nothing: a null mapping cannot be represented).
    NonNull::new(ptr).ok_or_else(|| io::Error::from_raw_os_error(sys::ENOMEM))
}

/// An [`io::ErrorKind::InvalidInput`] error with a message naming the rule.
pub(crate) fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.into())
}

/// `sysconf(_SC_PAGESIZE)` - the size of a page, read once and cached.
///
/// # Examples
/// ```
/// let page = memseg::raw::page_size();
/// assert!(page.is_power_of_two() && page >= 4096);
/// ```
///
/// # References
/// - [`sysconf(3)`](https://man7.org/linux/man-pages/man3/sysconf.3.html)
pub fn page_size() -> usize {
    static PAGE_SIZE: AtomicUsize = AtomicUsize::new(0);
    let cached = PAGE_SIZE.load(Ordering::Relaxed);
    if cached != 0 {
        return cached;
    }
    // SAFETY: sysconf takes an integer and touches no memory of ours.
    let ret = unsafe { sys::sysconf(sys::_SC_PAGESIZE) };
    // POSIX requires _SC_PAGESIZE; a failure (-1) or a nonsense value is
    // impossible on every supported system. Fall back to the smallest page
    // size any of them uses rather than panicking: every length memseg
    // computes from it is also rounded by the kernel, so a wrong guess can
    // only turn into EINVAL from mmap, never into unmapping foreign memory.
    let size = if ret > 0 && (ret as usize).is_power_of_two() {
        ret as usize
    } else {
        4096
    };
    PAGE_SIZE.store(size, Ordering::Relaxed);
    size
}

/// `mmap(addr, len, prot, flags, fd, offset)` - creates a mapping.
///
/// `fd` is `None` for `MAP_ANONYMOUS` (passed as -1). An `offset` above
/// `i64::MAX` is rejected with `InvalidInput` before the call.
///
/// # Errors
/// The errno of `mmap(2)`: `EINVAL` for a zero `len` or a misaligned
/// `offset`, `EACCES` for a protection the descriptor does not allow,
/// `ENOMEM`, `ENODEV`, ...
///
/// # Safety
/// With `MAP_FIXED` the new mapping replaces whatever was mapped in
/// `addr..addr + len`: no Rust reference may point into that range, and no
/// other owner may still think it owns it. Without `MAP_FIXED`, `addr` is a
/// hint and the call itself cannot invalidate anything. The returned memory
/// may be changed by other processes (shared mappings) or become
/// inaccessible (SIGBUS past the end of a file); how it may be used is up to
/// the caller.
///
/// # References
/// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
pub unsafe fn mmap(
    addr: *mut c_void,
    len: usize,
    prot: ProtFlags,
    flags: MapFlags,
    fd: Option<BorrowedFd<'_>>,
    offset: u64,
) -> io::Result<NonNull<c_void>> {
    let offset = i64::try_from(offset)
        .map_err(|_| invalid("mmap: the offset must not exceed i64::MAX (the C off_t)"))?;
    let fd = fd.map_or(-1, |fd| fd.as_raw_fd());
    // SAFETY: the caller upholds the MAP_FIXED contract above; every other
    // argument is plain data that the kernel validates.
    cvt_map(unsafe { sys::mmap(addr, len, prot.bits(), flags.bits(), fd, offset) })
}

/// `munmap(addr, len)` - removes the mappings in `addr..addr + len`.
///
/// # Errors
/// `EINVAL` for a misaligned `addr` or a zero `len`.
///
/// # Safety
/// `addr..addr + len` must be memory this caller owns the mapping of: no
/// Rust reference may point into it afterwards, and no other owner may
/// unmap or use it again.
///
/// # References
/// - [`munmap(2)`](https://man7.org/linux/man-pages/man2/munmap.2.html)
pub unsafe fn munmap(addr: *mut c_void, len: usize) -> io::Result<()> {
    // SAFETY: the caller owns the range and gives up every reference into it.
    cvt(unsafe { sys::munmap(addr, len) }).map(drop)
}

/// `msync(addr, len, flags)` - writes dirty pages of a shared file mapping
/// back to the file.
///
/// # Errors
/// `EINVAL` for a misaligned `addr`, `ENOMEM` for a range that is not mapped.
///
/// # Safety
/// Touches no memory, but with [`MsyncFlags::INVALIDATE`] other mappings'
/// cached copies may be refreshed: no `&mut` reference may rely on the range
/// staying unchanged across the call.
///
/// # References
/// - [`msync(2)`](https://man7.org/linux/man-pages/man2/msync.2.html)
pub unsafe fn msync(addr: *mut c_void, len: usize, flags: MsyncFlags) -> io::Result<()> {
    // SAFETY: the kernel checks that the range is mapped; see the contract above.
    cvt(unsafe { sys::msync(addr, len, flags.bits()) }).map(drop)
}

/// `madvise(addr, len, advice)` - tells the kernel how a range will be used.
///
/// # Errors
/// `EINVAL` for an unknown advice or a misaligned `addr`, `ENOMEM` for an
/// unmapped range, `EAGAIN`, `EFAULT`/`ENOMEM` from the populate advice.
///
/// # Safety
/// `DONTNEED`, `FREE`, `REMOVE` and `WIPEONFORK` change what the range reads
/// as (zeros, the file's contents, or either): no reference may rely on the
/// old contents, and the range must be owned by the caller. The other advice
/// values do not change the contents.
///
/// # References
/// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
pub unsafe fn madvise(addr: *mut c_void, len: usize, advice: Advice) -> io::Result<()> {
    // SAFETY: the caller upholds the contents contract above.
    cvt(unsafe { sys::madvise(addr, len, advice.raw()) }).map(drop)
}

/// `mprotect(addr, len, prot)` - changes what a range's pages may be used for.
///
/// # Errors
/// `EACCES` when the descriptor behind a shared mapping does not allow the
/// new protection, `EINVAL`, `ENOMEM`.
///
/// # Safety
/// Removing `PROT_READ` or `PROT_WRITE` makes any access through an existing
/// reference a SIGSEGV: no reference may be used in a way the new protection
/// forbids. The range must be owned by the caller.
///
/// # References
/// - [`mprotect(2)`](https://man7.org/linux/man-pages/man2/mprotect.2.html)
pub unsafe fn mprotect(addr: *mut c_void, len: usize, prot: ProtFlags) -> io::Result<()> {
    // SAFETY: the caller upholds the access contract above.
    cvt(unsafe { sys::mprotect(addr, len, prot.bits()) }).map(drop)
}

/// `mlock(addr, len)` - keeps a range's pages in RAM.
///
/// # Errors
/// `ENOMEM`/`EPERM` past `RLIMIT_MEMLOCK`, `EAGAIN`.
///
/// # Safety
/// Touches no memory and changes no contents; `unsafe` only because the
/// range is a raw pointer the kernel may fault in.
///
/// # References
/// - [`mlock(2)`](https://man7.org/linux/man-pages/man2/mlock.2.html)
pub unsafe fn mlock(addr: *const c_void, len: usize) -> io::Result<()> {
    // SAFETY: mlock only faults pages in and pins them.
    cvt(unsafe { sys::mlock(addr, len) }).map(drop)
}

/// `munlock(addr, len)` - lets a range's pages be swapped again.
///
/// # Errors
/// `ENOMEM` for an unmapped range.
///
/// # Safety
/// As for [`mlock`].
///
/// # References
/// - [`munlock(2)`](https://man7.org/linux/man-pages/man2/munlock.2.html)
pub unsafe fn munlock(addr: *const c_void, len: usize) -> io::Result<()> {
    // SAFETY: munlock only unpins pages.
    cvt(unsafe { sys::munlock(addr, len) }).map(drop)
}

/// `mlock2(addr, len, flags)` - `mlock` with flags: `MLOCK_ONFAULT` locks
/// pages as they are faulted in instead of faulting them all in now
/// (Linux 4.4+).
///
/// memseg makes the system call directly (`syscall(SYS_mlock2, ..)`), so it
/// works whether or not the C library has the wrapper (glibc added it in
/// 2.27). A kernel without it answers `ENOSYS`.
///
/// # Errors
/// As [`mlock`]; `EINVAL` for unknown flags; `ENOSYS`.
///
/// # Safety
/// As for [`mlock`].
///
/// # References
/// - [`mlock2(2)`](https://man7.org/linux/man-pages/man2/mlock2.2.html)
#[cfg(memseg_linux)]
pub unsafe fn mlock2(addr: *const c_void, len: usize, flags: MlockFlags) -> io::Result<()> {
    // SAFETY: the variadic arguments are the pointer, size_t and unsigned
    // int the system call takes; mlock2 only faults pages in and pins them.
    let ret = unsafe { sys::syscall(sys::SYS_mlock2, addr, len, flags.bits()) };
    // The system call returns 0 or -1.
    cvt(ret as c_int).map(drop)
}

/// `mlockall(flags)` - locks every page of the process's address space
/// (`CURRENT`), and/or every page mapped later (`FUTURE`), in RAM.
///
/// Safe: it changes no memory contents and invalidates no reference; it can
/// only make later allocations fail with `ENOMEM`/`EAGAIN` past
/// `RLIMIT_MEMLOCK`.
///
/// # Errors
/// `ENOMEM` past `RLIMIT_MEMLOCK`, `EPERM` without privilege when that
/// limit is 0, `EINVAL` for an empty or unknown flag set.
///
/// # References
/// - [`mlockall(2)`](https://man7.org/linux/man-pages/man2/mlockall.2.html)
pub fn mlockall(flags: MlockAllFlags) -> io::Result<()> {
    // SAFETY: mlockall takes an int and touches no memory of ours.
    cvt(unsafe { sys::mlockall(flags.bits()) }).map(drop)
}

/// `munlockall()` - unlocks every page of the process's address space and
/// ends `MCL_FUTURE`.
///
/// # Errors
/// None in practice (POSIX allows `ENOSYS`).
///
/// # References
/// - [`munlockall(2)`](https://man7.org/linux/man-pages/man2/munlockall.2.html)
pub fn munlockall() -> io::Result<()> {
    // SAFETY: munlockall takes no argument and touches no memory of ours.
    cvt(unsafe { sys::munlockall() }).map(drop)
}

/// `mremap(addr, old_len, new_len, flags[, new_addr])` - grows, shrinks or
/// moves a mapping (Linux).
///
/// # Errors
/// `ENOMEM` when the mapping cannot grow in place and `MAYMOVE` is not set,
/// `EINVAL`, `EFAULT`.
///
/// # Safety
/// `addr..addr + old_len` must be a mapping the caller owns. After success
/// the old range is gone (unless the result equals `addr` and the mapping
/// only grew): no reference may point into it. With `FIXED`, whatever was at
/// `new_addr..new_addr + new_len` is replaced.
///
/// # References
/// - [`mremap(2)`](https://man7.org/linux/man-pages/man2/mremap.2.html)
#[cfg(memseg_linux)]
pub unsafe fn mremap(
    addr: *mut c_void,
    old_len: usize,
    new_len: usize,
    flags: MremapFlags,
    new_addr: Option<NonNull<c_void>>,
) -> io::Result<NonNull<c_void>> {
    let ret = match new_addr {
        // SAFETY: the caller upholds the ownership contract above; the fifth
        // (variadic) argument is read by the kernel only with MREMAP_FIXED.
        Some(new) => unsafe { sys::mremap(addr, old_len, new_len, flags.bits(), new.as_ptr()) },
        // SAFETY: as above, with no fifth argument.
        None => unsafe { sys::mremap(addr, old_len, new_len, flags.bits()) },
    };
    cvt_map(ret)
}

/// The permission bits `shm_open` may be given (no file-type bits).
const MODE_MASK: u32 = 0o7777;

/// `shm_open(name, oflag, mode)` - opens or creates a POSIX shared-memory
/// object and returns its descriptor.
///
/// `name` is passed through unchanged: validate it first (the façade's
/// [`crate::ShmOptions`] does). `mode` must be permission bits (at most
/// `0o7777`); on macOS it is passed as the promoted variadic argument.
///
/// # Errors
/// `EEXIST` (`O_CREAT | O_EXCL` and the object exists), `ENOENT`, `EACCES`,
/// `EINVAL` (a name the C library rejects), `ENAMETOOLONG`, `EMFILE`.
///
/// # Examples
/// ```
/// use memseg::raw::{shm_open, shm_unlink, OFlags};
/// let name = std::ffi::CString::new(format!("/memseg-doc-raw-{}", std::process::id())).unwrap();
/// let fd = shm_open(&name, OFlags::RDWR | OFlags::CREAT | OFlags::EXCL, 0o600)?;
/// shm_unlink(&name)?;
/// drop(fd);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
/// - [`shm_open(3)`](https://man7.org/linux/man-pages/man3/shm_open.3.html)
pub fn shm_open(name: &CStr, oflag: OFlags, mode: u32) -> io::Result<OwnedFd> {
    if mode & !MODE_MASK != 0 {
        return Err(invalid(
            "shm_open: mode must be permission bits only (at most 0o7777)",
        ));
    }
    #[cfg(memseg_apple)]
    // SAFETY: name is a valid NUL-terminated string for the duration of the
    // call; Darwin's shm_open is variadic, so mode goes as a promoted c_uint.
    let fd = unsafe { sys::shm_open(name.as_ptr(), oflag.bits(), mode as sys::c_uint) };
    #[cfg(not(memseg_apple))]
    // SAFETY: name is a valid NUL-terminated string for the duration of the
    // call; mode fits mode_t because it was checked against 0o7777 above.
    let fd = unsafe { sys::shm_open(name.as_ptr(), oflag.bits(), mode as sys::mode_t) };
    let fd = cvt(fd)?;
    // SAFETY: shm_open returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `shm_unlink(name)` - removes a shared-memory object's name. Existing
/// descriptors and mappings stay valid until they are closed.
///
/// # Errors
/// `ENOENT` if no object has that name, `EACCES`.
///
/// # References
/// - [`shm_unlink(3)`](https://man7.org/linux/man-pages/man3/shm_unlink.3.html)
pub fn shm_unlink(name: &CStr) -> io::Result<()> {
    // SAFETY: name is a valid NUL-terminated string for the duration of the call.
    cvt(unsafe { sys::shm_unlink(name.as_ptr()) }).map(drop)
}

/// `memfd_create(name, flags)` - creates an anonymous file in memory
/// (Linux 3.17+, FreeBSD 13+).
///
/// On Linux memseg makes the system call directly (`syscall(SYS_memfd_create,
/// ..)`), so it works whether or not the C library has the wrapper (glibc
/// added it in 2.27). A kernel without it answers `ENOSYS`.
///
/// # Errors
/// `EINVAL` (name longer than 249 bytes, unknown flags), `ENOSYS`, `EMFILE`.
///
/// # Examples
/// ```
/// # #[cfg(target_os = "linux")] {
/// use memseg::raw::{memfd_create, MemfdFlags};
/// let name = std::ffi::CString::new("demo").unwrap();
/// let fd = memfd_create(&name, MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
/// - [`memfd_create(2)`](https://man7.org/linux/man-pages/man2/memfd_create.2.html)
#[cfg(any(memseg_linux, memseg_freebsd))]
pub fn memfd_create(name: &CStr, flags: MemfdFlags) -> io::Result<OwnedFd> {
    #[cfg(memseg_linux)]
    // SAFETY: name is a valid NUL-terminated string for the duration of the
    // call; the variadic arguments are the pointer and the c_uint flags the
    // system call takes.
    let ret = unsafe { sys::syscall(sys::SYS_memfd_create, name.as_ptr(), flags.bits()) };
    #[cfg(memseg_freebsd)]
    // SAFETY: name is a valid NUL-terminated string for the duration of the call.
    let ret = sys::c_long::from(unsafe { sys::memfd_create(name.as_ptr(), flags.bits()) });
    // A descriptor always fits c_int; -1 is the failure value.
    let fd = cvt(ret as c_int)?;
    // SAFETY: memfd_create returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `fcntl(fd, F_ADD_SEALS, seals)` - adds seals to a memfd.
///
/// # Errors
/// `EINVAL` (not a memfd, or created without `ALLOW_SEALING` on some
/// kernels), `EPERM` (`F_SEAL_SEAL` is set, or the memfd was created without
/// `MFD_ALLOW_SEALING`), `EBUSY` (`F_SEAL_WRITE` while a writable shared
/// mapping exists).
///
/// # References
/// - [`fcntl(2)`](https://man7.org/linux/man-pages/man2/fcntl.2.html), "File Sealing"
#[cfg(any(memseg_linux, memseg_freebsd))]
pub fn add_seals(fd: BorrowedFd<'_>, seals: SealFlags) -> io::Result<()> {
    // SAFETY: F_ADD_SEALS takes an int argument and touches no memory.
    cvt(unsafe { sys::fcntl(fd.as_raw_fd(), sys::F_ADD_SEALS, seals.bits()) }).map(drop)
}

/// `fcntl(fd, F_GET_SEALS)` - reads a memfd's seals.
///
/// # Errors
/// `EINVAL` if `fd` does not support sealing.
///
/// # References
/// - [`fcntl(2)`](https://man7.org/linux/man-pages/man2/fcntl.2.html), "File Sealing"
#[cfg(any(memseg_linux, memseg_freebsd))]
pub fn get_seals(fd: BorrowedFd<'_>) -> io::Result<SealFlags> {
    // SAFETY: F_GET_SEALS takes no argument and touches no memory.
    cvt(unsafe { sys::fcntl(fd.as_raw_fd(), sys::F_GET_SEALS) }).map(SealFlags::from_bits_retain)
}

/// `posix_fallocate(fd, offset, len)` - allocates the backing store for
/// `offset..offset + len`, growing the file if needed (Linux, FreeBSD).
///
/// On a tmpfs (`/dev/shm`) this turns "out of space" into `ENOSPC` now
/// instead of a SIGBUS at the first touch of a page. Interrupted calls
/// (`EINTR`) are restarted: allocation is idempotent.
///
/// # Errors
/// `ENOSPC`, `EFBIG`, `EINVAL` (zero `len`), `EOPNOTSUPP`/`ENODEV` where the
/// file system cannot allocate, `EBADF` (not open for writing).
///
/// # References
/// - [`posix_fallocate(3)`](https://man7.org/linux/man-pages/man3/posix_fallocate.3.html)
#[cfg(any(memseg_linux, memseg_freebsd))]
pub fn posix_fallocate(fd: BorrowedFd<'_>, offset: u64, len: u64) -> io::Result<()> {
    let (offset, len) = match (i64::try_from(offset), i64::try_from(len)) {
        (Ok(o), Ok(l)) => (o, l),
        _ => {
            return Err(invalid(
                "posix_fallocate: offset and len must not exceed i64::MAX",
            ))
        }
    };
    loop {
        // SAFETY: posix_fallocate takes plain integers and touches no memory.
        match cvt_nz(unsafe { sys::posix_fallocate(fd.as_raw_fd(), offset, len) }) {
            Err(e) if e.raw_os_error() == Some(sys::EINTR) => continue,
            other => return other,
        }
    }
}
