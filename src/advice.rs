//! `Advice` and `UncheckedAdvice`: `madvise(2)` split by what it may do to
//! the contents (memmap2's split), and the populate fallback for kernels
//! that predate `MADV_POPULATE_READ`/`MADV_POPULATE_WRITE`.

use crate::inner::MapInner;
use crate::raw;
use std::io;

/// `madvise(2)` advice that never changes what a mapping's pages contain,
/// so every mapping type offers it through a safe `advise` method
/// ([`Mmap::advise`](crate::Mmap::advise),
/// [`SharedMmap::advise`](crate::SharedMmap::advise),
/// [`MmapFile::advise`](crate::MmapFile::advise)).
///
/// Advice that may change the contents (`MADV_DONTNEED`, `MADV_FREE`,
/// `MADV_REMOVE`, `MADV_WIPEONFORK`) is in [`UncheckedAdvice`] instead.
/// Variants a platform lacks are absent there (`#[cfg]`), never a silent
/// no-op: code that names `Advice::HugePage` does not compile for macOS.
///
/// # References
/// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
/// - [`posix_madvise(3)`](https://man7.org/linux/man-pages/man3/posix_madvise.3.html)
#[doc(alias = "madvise")]
#[doc(alias = "MADV")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Advice {
    /// `MADV_NORMAL` - no special treatment (undoes `Random`/`Sequential`).
    Normal,
    /// `MADV_RANDOM` - expect random access: read-ahead is reduced.
    Random,
    /// `MADV_SEQUENTIAL` - expect sequential access: read ahead
    /// aggressively and drop pages soon after they were read.
    Sequential,
    /// `MADV_WILLNEED` - the range will be needed soon: start reading it in.
    WillNeed,
    /// `MADV_HUGEPAGE` (Linux 2.6.38+) - back the range with transparent
    /// huge pages where possible (when
    /// `/sys/kernel/mm/transparent_hugepage/enabled` is `madvise` or
    /// `always`). `EINVAL` on kernels built without THP.
    #[cfg(memseg_linux)]
    HugePage,
    /// `MADV_NOHUGEPAGE` (Linux 2.6.38+) - do not use transparent huge pages
    /// for the range.
    #[cfg(memseg_linux)]
    NoHugePage,
    /// `MADV_DONTFORK` (Linux) - a child made by `fork(2)` does not get this
    /// range (its copy of the mapping is simply absent, so a forked child
    /// must not touch it).
    #[cfg(memseg_linux)]
    DontFork,
    /// `MADV_DOFORK` (Linux) - undoes `DontFork`.
    #[cfg(memseg_linux)]
    DoFork,
    /// `MADV_MERGEABLE` (Linux, `CONFIG_KSM`) - let kernel samepage merging
    /// share identical pages (copy-on-write, invisible to the program).
    #[cfg(memseg_linux)]
    Mergeable,
    /// `MADV_UNMERGEABLE` (Linux) - undoes `Mergeable`.
    #[cfg(memseg_linux)]
    Unmergeable,
    /// `MADV_DONTDUMP` (Linux 3.4+) - leave the range out of core dumps
    /// (for keys and other secrets).
    #[cfg(memseg_linux)]
    DontDump,
    /// `MADV_DODUMP` (Linux 3.4+) - undoes `DontDump`.
    #[cfg(memseg_linux)]
    DoDump,
    /// `MADV_KEEPONFORK` (Linux 4.14+) - undoes
    /// [`UncheckedAdvice::WipeOnFork`].
    #[cfg(memseg_linux)]
    KeepOnFork,
    /// `MADV_COLD` (Linux 5.4+) - the range is unlikely to be used soon:
    /// deactivate its pages. The contents are kept.
    #[cfg(memseg_linux)]
    Cold,
    /// `MADV_PAGEOUT` (Linux 5.4+) - reclaim the range now (write it to
    /// swap or back to its file). The contents are kept and read back on the
    /// next access.
    #[cfg(memseg_linux)]
    PageOut,
    /// `MADV_POPULATE_READ` (Linux 5.14+) - fault the whole range in for
    /// reading now, reporting failures (`EFAULT` where an access would raise
    /// SIGBUS, `ENOMEM`) instead of raising signals later.
    ///
    /// On older kernels (which answer `EINVAL`) memseg touches one byte per
    /// page instead; failures are then signals, as on a normal access.
    #[cfg(memseg_linux)]
    PopulateRead,
    /// `MADV_POPULATE_WRITE` (Linux 5.14+) - fault the whole range in
    /// writable now (allocating the backing store of a shared segment and
    /// breaking copy-on-write of private pages), reporting failures (`EFAULT`
    /// for a page a write would SIGBUS on, such as a full tmpfs, `ENOMEM`)
    /// instead of raising signals later. `EINVAL` on a mapping that is not
    /// writable.
    ///
    /// On older kernels memseg touches one byte per page: a
    /// [`SharedMmap`](crate::SharedMmap) with an atomic `fetch_or(0)` (a
    /// read-modify-write that stores the value it read, so another process's
    /// concurrent store is never lost); an [`Mmap`](crate::Mmap) or
    /// [`MmapFile`](crate::MmapFile), which may have live `&T` into the
    /// range, with a read only (a store under a live shared reference is
    /// undefined behaviour, even of the same value). Failures are then
    /// signals.
    #[cfg(memseg_linux)]
    PopulateWrite,
    /// `MADV_NOSYNC` (FreeBSD) - the syncer need not flush dirty pages.
    #[cfg(memseg_freebsd)]
    NoSync,
    /// `MADV_AUTOSYNC` (FreeBSD) - undoes `NoSync`.
    #[cfg(memseg_freebsd)]
    AutoSync,
    /// `MADV_NOCORE` (FreeBSD) - leave the range out of core dumps.
    #[cfg(memseg_freebsd)]
    NoCore,
    /// `MADV_CORE` (FreeBSD) - undoes `NoCore`.
    #[cfg(memseg_freebsd)]
    Core,
    /// `MADV_ZERO_WIRED_PAGES` (macOS) - zero the range's wired pages when
    /// it is unmapped without being unwired first; the contents while mapped
    /// do not change.
    #[cfg(memseg_apple)]
    ZeroWiredPages,
}

impl Advice {
    /// The `MADV_*` value.
    pub fn to_raw(self) -> raw::Advice {
        match self {
            Advice::Normal => raw::Advice::NORMAL,
            Advice::Random => raw::Advice::RANDOM,
            Advice::Sequential => raw::Advice::SEQUENTIAL,
            Advice::WillNeed => raw::Advice::WILLNEED,
            #[cfg(memseg_linux)]
            Advice::HugePage => raw::Advice::HUGEPAGE,
            #[cfg(memseg_linux)]
            Advice::NoHugePage => raw::Advice::NOHUGEPAGE,
            #[cfg(memseg_linux)]
            Advice::DontFork => raw::Advice::DONTFORK,
            #[cfg(memseg_linux)]
            Advice::DoFork => raw::Advice::DOFORK,
            #[cfg(memseg_linux)]
            Advice::Mergeable => raw::Advice::MERGEABLE,
            #[cfg(memseg_linux)]
            Advice::Unmergeable => raw::Advice::UNMERGEABLE,
            #[cfg(memseg_linux)]
            Advice::DontDump => raw::Advice::DONTDUMP,
            #[cfg(memseg_linux)]
            Advice::DoDump => raw::Advice::DODUMP,
            #[cfg(memseg_linux)]
            Advice::KeepOnFork => raw::Advice::KEEPONFORK,
            #[cfg(memseg_linux)]
            Advice::Cold => raw::Advice::COLD,
            #[cfg(memseg_linux)]
            Advice::PageOut => raw::Advice::PAGEOUT,
            #[cfg(memseg_linux)]
            Advice::PopulateRead => raw::Advice::POPULATE_READ,
            #[cfg(memseg_linux)]
            Advice::PopulateWrite => raw::Advice::POPULATE_WRITE,
            #[cfg(memseg_freebsd)]
            Advice::NoSync => raw::Advice::NOSYNC,
            #[cfg(memseg_freebsd)]
            Advice::AutoSync => raw::Advice::AUTOSYNC,
            #[cfg(memseg_freebsd)]
            Advice::NoCore => raw::Advice::NOCORE,
            #[cfg(memseg_freebsd)]
            Advice::Core => raw::Advice::CORE,
            #[cfg(memseg_apple)]
            Advice::ZeroWiredPages => raw::Advice::ZERO_WIRED_PAGES,
        }
    }
}

/// `madvise(2)` advice that may change what a mapping's pages contain, so
/// it is reachable only through `unsafe` on the types that hand out
/// references ([`Mmap::unchecked_advise`](crate::Mmap::unchecked_advise),
/// [`MmapFile::unchecked_advise`](crate::MmapFile::unchecked_advise)).
/// [`SharedMmap::unchecked_advise`](crate::SharedMmap::unchecked_advise) is
/// safe: that type never hands out references to plain data, so a page that
/// suddenly reads as zeros is no different from a store by another process.
///
/// # References
/// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
#[doc(alias = "madvise")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UncheckedAdvice {
    /// `MADV_DONTNEED` - drop the pages now. On Linux, private anonymous
    /// pages then read as zeros and private file pages as the file's
    /// current contents; shared pages keep their contents (they live in the
    /// file or segment). On macOS and FreeBSD it is only a hint and the
    /// contents stay.
    DontNeed,
    /// `MADV_FREE` (Linux 4.5+, macOS, FreeBSD) - the kernel may drop the
    /// pages whenever it likes, until they are next written: they read as
    /// either their old contents or zeros. Private anonymous mappings only
    /// (Linux: `EINVAL` elsewhere).
    Free,
    /// `MADV_REMOVE` (Linux 2.6.16+) - free the backing store of a shared
    /// mapping (punch a hole in the file or segment): the range reads as
    /// zeros, for every process that maps it. Linux checks that the mapping
    /// *may* be made writable (a descriptor open for writing), not its
    /// current protection, so a read-only mapping of a read-write descriptor
    /// can punch holes too. `EACCES` for a read-only descriptor or a private
    /// mapping, `EPERM` on a write-sealed memfd, `EOPNOTSUPP` on file
    /// systems without hole punching.
    #[cfg(memseg_linux)]
    Remove,
    /// `MADV_WIPEONFORK` (Linux 4.14+) - a child made by `fork(2)` sees the
    /// range as zeros (private anonymous mappings only, else `EINVAL`).
    #[cfg(memseg_linux)]
    WipeOnFork,
    /// `MADV_FREE_REUSABLE` (macOS) - like `Free`: the pages may be reused
    /// by the system and read back as zeros or their old contents.
    #[cfg(memseg_apple)]
    FreeReusable,
    /// `MADV_FREE_REUSE` (macOS) - the range, earlier marked
    /// `FreeReusable`, is in use again; its contents are whatever the
    /// system left there.
    #[cfg(memseg_apple)]
    FreeReuse,
}

impl UncheckedAdvice {
    /// The `MADV_*` value.
    pub fn to_raw(self) -> raw::Advice {
        match self {
            UncheckedAdvice::DontNeed => raw::Advice::DONTNEED,
            UncheckedAdvice::Free => raw::Advice::FREE,
            #[cfg(memseg_linux)]
            UncheckedAdvice::Remove => raw::Advice::REMOVE,
            #[cfg(memseg_linux)]
            UncheckedAdvice::WipeOnFork => raw::Advice::WIPEONFORK,
            #[cfg(memseg_apple)]
            UncheckedAdvice::FreeReusable => raw::Advice::FREE_REUSABLE,
            #[cfg(memseg_apple)]
            UncheckedAdvice::FreeReuse => raw::Advice::FREE_REUSE,
        }
    }
}

/// How the populate fallback may touch a writable mapping's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Touch {
    /// Reads only: plain references into the mapping may be live.
    Read,
    /// An atomic `fetch_or(0)` per page on writable mappings: no plain
    /// references exist (a `SharedMmap`).
    AtomicWrite,
}

/// `madvise(advice)` over `offset .. offset + len` of `inner`, with the
/// populate fallback for kernels that do not know it.
pub(crate) fn advise(
    inner: &MapInner,
    advice: Advice,
    offset: usize,
    len: usize,
    writable: bool,
    touch: Touch,
) -> io::Result<()> {
    // SAFETY: `Advice` holds only advice that leaves the contents unchanged.
    let result = unsafe { inner.madvise(offset, len, advice.to_raw()) };
    #[cfg(memseg_linux)]
    if let Err(e) = &result {
        let populate = matches!(advice, Advice::PopulateRead | Advice::PopulateWrite);
        if populate && e.raw_os_error() == Some(crate::sys::EINVAL) && !populate_supported() {
            let write = advice == Advice::PopulateWrite;
            if write && !writable {
                // What a kernel that knows the advice says for a mapping
                // without PROT_WRITE.
                return result;
            }
            let atomic = write && touch == Touch::AtomicWrite;
            touch_pages(inner, offset, len, atomic);
            return Ok(());
        }
    }
    let _ = (writable, touch);
    result
}

/// Whether this kernel knows `MADV_POPULATE_READ` (Linux 5.14+), asked once.
///
/// `madvise` checks the advice value before anything else and succeeds for
/// an empty range, so `madvise(aligned, 0, MADV_POPULATE_READ)` is 0 on a
/// kernel that knows the value and `EINVAL` on one that does not.
#[cfg(memseg_linux)]
fn populate_supported() -> bool {
    use std::sync::atomic::{AtomicU8, Ordering};
    static SUPPORTED: AtomicU8 = AtomicU8::new(0); // 0 unknown, 1 no, 2 yes
    match SUPPORTED.load(Ordering::Relaxed) {
        1 => return false,
        2 => return true,
        _ => {}
    }
    let addr = raw::page_size() as *mut crate::sys::c_void;
    // SAFETY: a zero-length range touches no page; the address is only
    // checked for alignment.
    let ok = unsafe { raw::madvise(addr, 0, raw::Advice::POPULATE_READ) }.is_ok();
    SUPPORTED.store(if ok { 2 } else { 1 }, Ordering::Relaxed);
    ok
}

/// The populate fallback: touches one byte in every page of the range.
#[cfg(memseg_linux)]
fn touch_pages(inner: &MapInner, offset: usize, len: usize, atomic: bool) {
    use std::sync::atomic::{AtomicU8, Ordering};
    let (addr, len) = match inner.page_range(offset, len) {
        Ok(range) => range,
        // Unreachable: madvise checked the same range before the fallback.
        Err(_) => return,
    };
    let page = raw::page_size();
    let mut at = 0;
    while at < len {
        let p = (addr as *mut u8).wrapping_add(at);
        if atomic {
            // SAFETY: p is inside our writable mapping (page_range; the
            // caller checked PROT_WRITE), no plain reference points at it
            // (Touch::AtomicWrite), and AtomicU8 has the alignment of u8.
            unsafe { (*(p as *const AtomicU8)).fetch_or(0, Ordering::Relaxed) };
        } else {
            // SAFETY: p is inside our readable mapping (page_range).
            unsafe { std::ptr::read_volatile(p) };
        }
        at += page;
    }
}

#[cfg(all(test, memseg_linux))]
mod tests {
    use super::*;
    use crate::raw::{MapFlags, ProtFlags};

    /// The fallback itself (the kernel here knows the advice, so the public
    /// path never reaches it): reads and no-op atomic writes per page leave
    /// the contents as they were and fault every page in.
    #[test]
    fn touch_fallback_keeps_contents() {
        let page = raw::page_size();
        let inner = MapInner::map(
            0,
            4 * page,
            ProtFlags::READ | ProtFlags::WRITE,
            MapFlags::SHARED | MapFlags::ANONYMOUS,
            None,
            0,
            page,
        )
        .unwrap();
        // SAFETY: the mapping is 4 pages, writable and ours alone.
        unsafe { *inner.ptr().add(page) = 7 };
        touch_pages(&inner, 0, 4 * page, true);
        touch_pages(&inner, 10, page, false);
        // SAFETY: as above.
        assert_eq!(unsafe { *inner.ptr().add(page) }, 7);
        assert!(populate_supported());
    }
}
