//! `Mmap<T, P>`: a typed mapping of a file, a shared-memory segment or
//! anonymous memory, and `MmapOptions`, its builder.

#[cfg(memseg_linux)]
use crate::huge::HugePageSize;
use crate::inner::{file_granule, file_window, MapInner};
use crate::pod::{AtomicPod, Pod};
use crate::prot::{Protection, ReadWrite, Writable};
use crate::raw::{self, invalid, MapFlags, MsyncFlags, ProtFlags};
use crate::shared::SharedMmap;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::mem::{align_of, size_of};
use std::os::unix::io::{AsFd, BorrowedFd};

/// A typed memory mapping - the seed's `x::mmap<T>`.
///
/// `Mmap<T, P>` maps at least `size_of::<T>()` bytes and views them as a `T`
/// ([`object`](Mmap::object)) or as a slice of `T`s
/// ([`as_slice`](Mmap::as_slice)). `P` is the protection as a type
/// ([`ReadOnly`](crate::ReadOnly), [`ReadWrite`], [`ReadExec`](crate::ReadExec)),
/// so [`object_mut`](Mmap::object_mut) exists only on writable mappings.
/// Dropping it unmaps; wrap it in [`std::sync::Arc`] to share it the way the
/// C++ library's reference counting does: the mapping lives until the last
/// clone is dropped.
///
/// References into a mapping are sound only while nothing else changes or
/// truncates what is mapped. memseg can prove that for anonymous memory it
/// created ([`Mmap::anonymous`], safe); for a file or a shared segment it
/// cannot, so [`Mmap::create`] and [`MmapOptions::map`] are `unsafe` and that
/// is the one place the caller takes it on. [`SharedMmap`] is the safe
/// alternative for memory other processes write.
///
/// # Examples
/// ```
/// use memseg::{Mmap, ReadWrite};
/// let mut counters = Mmap::<[u64; 4]>::anonymous(4096, ReadWrite)?;
/// counters.object_mut()[2] = 7;
/// assert_eq!(counters.object()[2], 7);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Mmap<T, P = ReadWrite> {
    pub(crate) inner: MapInner,
    _marker: PhantomData<(T, P)>,
}

// SAFETY: Mmap owns its mapping like a Box owns its allocation: moving it to
// another thread moves the right to reach the T (hence T: Send), and sharing
// &Mmap shares &T (hence T: Sync). P is a zero-sized marker.
unsafe impl<T: Send, P: Protection> Send for Mmap<T, P> {}
// SAFETY: see Send.
unsafe impl<T: Sync, P: Protection> Sync for Mmap<T, P> {}

impl<T> Mmap<T> {
    /// `mmap(2)` - maps a whole file or segment, shared, from offset 0: the
    /// seed's `x::mmap<T>::create(fd, prot)`.
    ///
    /// The length is the file's size; it must be at least `size_of::<T>()`.
    /// Use [`Mmap::options`] for an offset, a length, private mappings or
    /// populate.
    ///
    /// # Errors
    /// `InvalidInput` (checked before `mmap`): the file is shorter than a
    /// `T`, `T` is zero-sized or aligned above a page, or the descriptor is
    /// not a regular file. From the OS: `EACCES` when the descriptor does not
    /// allow `prot` (a read-write shared mapping of a read-only descriptor),
    /// `ENODEV`, `ENOMEM`, ...
    ///
    /// # Safety
    /// For as long as the mapping lives (the references it hands out live no
    /// longer), nothing else may change or truncate the mapped part of the
    /// file: not another process, not another mapping or descriptor in this
    /// process. A change would break the aliasing rules of `&T`/`&mut T`; a
    /// truncation makes touching the lost pages raise SIGBUS. The promise
    /// covers whatever part of the file the mapping covers later, after
    /// [`Mmap::remap_file`] or [`Shm::set_len_and_remap`](crate::Shm::set_len_and_remap).
    /// If that cannot be promised, use [`SharedMmap::create`] (safe, no
    /// references) or, on Linux and FreeBSD, a sealed memfd
    /// (`Mmap::from_sealed`, safe).
    ///
    /// # Examples
    /// ```
    /// use memseg::{Mmap, ReadWrite, Shm};
    /// let shm = Shm::create_unique("memseg-doc-", 4096)?;
    /// // SAFETY: the segment has a fresh random name and is used by nobody else.
    /// let mut mapped = unsafe { Mmap::<[u8; 12]>::create(&shm, ReadWrite)? };
    /// *mapped.object_mut() = *b"Hello world!";
    /// mapped.msync()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    #[doc(alias = "mmap")]
    pub unsafe fn create<P: Protection>(fd: impl AsFd, prot: P) -> io::Result<Mmap<T, P>> {
        // SAFETY: the caller takes on the same contract.
        unsafe { Self::options().map(fd, prot) }
    }

    /// `mmap(2)` with `MAP_SHARED | MAP_ANONYMOUS` - the seed's standalone
    /// segment: `len` bytes of zeroed memory, shared with children forked
    /// after the call.
    ///
    /// Safe: nobody but this process (and children it forks, which takes
    /// `unsafe` code) can reach the memory.
    ///
    /// # Errors
    /// `InvalidInput` for a `len` of zero or smaller than a `T`; `ENOMEM`.
    ///
    /// # Examples
    /// ```
    /// use memseg::{Mmap, ReadWrite};
    /// let mut v = Mmap::<u32>::anonymous(4096, ReadWrite)?;
    /// assert_eq!(v.as_slice().len(), 1024);
    /// v.as_mut_slice()[1023] = 1;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    pub fn anonymous<P: Protection>(len: usize, prot: P) -> io::Result<Mmap<T, P>> {
        Self::options().len(len).map_anonymous(prot)
    }

    /// A builder for mappings with an offset, a length, `MAP_PRIVATE`,
    /// populate or an address hint.
    pub fn options() -> MmapOptions<T> {
        MmapOptions::new()
    }
}

impl<T, P: Protection> Mmap<T, P> {
    pub(crate) fn from_inner(inner: MapInner) -> Self {
        Mmap {
            inner,
            _marker: PhantomData,
        }
    }

    /// The length of the mapping in bytes (at least `size_of::<T>()`).
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Always `false`: a typed mapping holds at least one `T`.
    pub fn is_empty(&self) -> bool {
        self.inner.len() == 0
    }

    /// The address of the mapped `T`.
    pub fn as_ptr(&self) -> *const T {
        self.inner.ptr() as *const T
    }

    /// `msync(MS_SYNC)` - writes the whole mapping's dirty pages back to the
    /// file and waits; the seed's `msync()`. A no-op for anonymous memory.
    ///
    /// # Errors
    /// `EIO` and other write-back errors of the file system.
    ///
    /// # References
    /// - [`msync(2)`](https://man7.org/linux/man-pages/man2/msync.2.html)
    pub fn msync(&self) -> io::Result<()> {
        self.inner.msync(0, self.len(), MsyncFlags::SYNC)
    }

    /// `msync(MS_ASYNC)` - schedules write-back of the whole mapping and
    /// returns at once.
    ///
    /// # Errors
    /// As [`msync`](Mmap::msync).
    pub fn msync_async(&self) -> io::Result<()> {
        self.inner.msync(0, self.len(), MsyncFlags::ASYNC)
    }

    /// `msync(flags)` over `offset .. offset + len` bytes of the mapping,
    /// widened to whole pages (any offset is accepted).
    /// `MsyncFlags::SYNC | MsyncFlags::INVALIDATE` also invalidates other
    /// mappings' cached copies.
    ///
    /// # Errors
    /// `InvalidInput` if the range is not inside the mapping (checked before
    /// the call, with overflow checks); the OS errors of `msync`.
    ///
    /// # Examples
    /// ```
    /// use memseg::{Mmap, MsyncFlags, ReadWrite};
    /// let map = Mmap::<u8>::anonymous(8192, ReadWrite)?;
    /// map.msync_range(4000, 200, MsyncFlags::ASYNC)?;
    /// assert!(map.msync_range(8000, 200, MsyncFlags::SYNC).is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn msync_range(&self, offset: usize, len: usize, flags: MsyncFlags) -> io::Result<()> {
        self.inner.msync(offset, len, flags)
    }
}

impl<T: Pod, P: Protection> Mmap<T, P> {
    /// The mapped object: the first `size_of::<T>()` bytes as a `T`; the
    /// seed's `object()`.
    pub fn object(&self) -> &T {
        // Nothing changes the memory while &self lives: anonymous memory is
        // ours, and for files the unsafe constructor's contract says so.
        // SAFETY: at least size_of::<T>() bytes, aligned for T (both checked
        // when mapped), readable (every P has PROT_READ), any bytes a valid T.
        unsafe { &*(self.inner.ptr() as *const T) }
    }

    /// The whole mapping as `len() / size_of::<T>()` values of `T`.
    pub fn as_slice(&self) -> &[T] {
        let n = self.inner.len() / size_of::<T>();
        // SAFETY: as in `object`, for n whole Ts inside the mapping.
        unsafe { std::slice::from_raw_parts(self.inner.ptr() as *const T, n) }
    }

    /// The whole mapping as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: the mapping is readable and initialised (the kernel fills
        // it from the file or with zeros; Pod values written into it have no
        // padding), and nothing changes it while &self lives.
        unsafe { std::slice::from_raw_parts(self.inner.ptr(), self.inner.len()) }
    }
}

impl<T: Pod, P: Writable> Mmap<T, P> {
    /// The mapped object, mutably. Only writable mappings have it.
    pub fn object_mut(&mut self) -> &mut T {
        // SAFETY: as in `object`, plus the pages are writable (P: Writable)
        // and &mut self makes this the only reference.
        unsafe { &mut *(self.inner.ptr() as *mut T) }
    }

    /// The whole mapping as a mutable slice of `T`.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        let n = self.inner.len() / size_of::<T>();
        // SAFETY: as in `object_mut`, for n whole Ts inside the mapping.
        unsafe { std::slice::from_raw_parts_mut(self.inner.ptr() as *mut T, n) }
    }
}

impl<T: AtomicPod, P: Writable> Mmap<T, P> {
    /// The mapped object made of atomics, by shared reference, so several
    /// threads (or forked children) can update it at once. Only writable
    /// mappings have it: an atomic store into a read-only page would fault.
    ///
    /// # Examples
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use memseg::{Mmap, ReadWrite};
    /// let counters = Mmap::<[AtomicU64; 8]>::anonymous(4096, ReadWrite)?;
    /// counters.atomic()[0].fetch_add(1, Ordering::SeqCst);
    /// assert_eq!(counters.atomic()[0].load(Ordering::SeqCst), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn atomic(&self) -> &T {
        // SAFETY: the mapping is large and aligned enough for T (checked when
        // it was made), writable, and T is made only of atomics, which
        // tolerate concurrent access through shared references.
        unsafe { &*(self.inner.ptr() as *const T) }
    }
}

impl<T, P: Writable> Mmap<T, P> {
    /// The address of the mapped `T`, for writing.
    pub fn as_mut_ptr(&mut self) -> *mut T {
        self.inner.ptr() as *mut T
    }
}

impl<T, P: Protection> fmt::Debug for Mmap<T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mmap")
            .field("type", &std::any::type_name::<T>())
            .field("prot", &P::FLAGS)
            .field("ptr", &self.inner.ptr())
            .field("len", &self.inner.len())
            .finish()
    }
}

/// Builds an [`Mmap`] or [`SharedMmap`] - the seed's optional `create()`
/// arguments, shaped like [`std::fs::OpenOptions`].
///
/// Defaults: `MAP_SHARED`, offset 0, length = the rest of the file (required
/// for anonymous mappings), no populate, no address hint.
///
/// # Examples
/// ```
/// use memseg::{Mmap, ReadOnly};
/// use std::io::Write;
/// let mut file = tempfile()?;
/// file.write_all(&[7u8; 10_000])?;
/// // Any offset: page alignment is handled inside.
/// // SAFETY: the file is private to this example.
/// let tail = unsafe { Mmap::<u8>::options().offset(9_000).map(&file, ReadOnly)? };
/// assert_eq!(tail.len(), 1_000);
/// assert_eq!(tail.as_slice()[999], 7);
/// # fn tempfile() -> std::io::Result<std::fs::File> {
/// #     let p = std::env::temp_dir().join(format!("memseg-doc-opt-{}", std::process::id()));
/// #     let f = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&p)?;
/// #     std::fs::remove_file(&p)?;
/// #     Ok(f)
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct MmapOptions<T> {
    offset: u64,
    len: Option<usize>,
    private: bool,
    populate: bool,
    hint: usize,
    pub(crate) extra: MapFlags,
    pub(crate) unmap_align: Option<usize>,
    #[cfg(memseg_linux)]
    huge: Option<HugePageSize>,
    #[cfg(memseg_linux)]
    sync: bool,
    #[cfg(any(memseg_linux, memseg_freebsd))]
    exact: bool,
    _marker: PhantomData<fn() -> T>,
}

impl<T> Clone for MmapOptions<T> {
    fn clone(&self) -> Self {
        MmapOptions { ..*self }
    }
}

impl<T> fmt::Debug for MmapOptions<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MmapOptions")
            .field("offset", &self.offset)
            .field("len", &self.len)
            .field("private", &self.private)
            .field("populate", &self.populate)
            .field("hint", &self.hint)
            .field("extra", &self.extra)
            .field("unmap_align", &self.unmap_align)
            .finish_non_exhaustive()
    }
}

impl<T> Default for MmapOptions<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> MmapOptions<T> {
    /// The defaults: shared, offset 0, the rest of the file.
    pub fn new() -> Self {
        MmapOptions {
            offset: 0,
            len: None,
            private: false,
            populate: false,
            hint: 0,
            extra: MapFlags::empty(),
            unmap_align: None,
            #[cfg(memseg_linux)]
            huge: None,
            #[cfg(memseg_linux)]
            sync: false,
            #[cfg(any(memseg_linux, memseg_freebsd))]
            exact: false,
            _marker: PhantomData,
        }
    }

    /// Maps from this byte offset in the file (default 0). Any value is
    /// accepted: the mapping starts at the page below it and the view at
    /// the offset, which must be a multiple of `align_of::<T>()`.
    pub fn offset(&mut self, offset: u64) -> &mut Self {
        self.offset = offset;
        self
    }

    /// Maps this many bytes (default: the rest of the file). Required for
    /// anonymous mappings and for descriptors that are not regular files.
    pub fn len(&mut self, len: usize) -> &mut Self {
        self.len = Some(len);
        self
    }

    /// `MAP_PRIVATE` instead of `MAP_SHARED`: stores go to copy-on-write
    /// pages of this mapping and never reach the file or other processes.
    pub fn private(&mut self, private: bool) -> &mut Self {
        self.private = private;
        self
    }

    /// Pre-faults the pages at map time: `MAP_POPULATE` on Linux (errors
    /// are not reported: `madvise(MADV_POPULATE_WRITE)` is the checked
    /// form), `MAP_PREFAULT_READ` on FreeBSD, and `madvise(MADV_WILLNEED)`
    /// right after mapping on macOS, which has no pre-fault flag.
    ///
    /// Measure before relying on it for speed: on a file cached in 4 KiB
    /// pages, Linux's page-by-page populate walk read a 1 GiB file about 2x
    /// slower than plain faulting in `benches/throughput.rs` (`read/seq_1g`,
    /// see `benches/RESULTS.md`); it wins for anonymous memory and for files
    /// cached in large folios.
    pub fn populate(&mut self, populate: bool) -> &mut Self {
        self.populate = populate;
        self
    }

    /// Asks for the mapping to be placed at `addr`. Only a hint: memseg
    /// never passes `MAP_FIXED`, so an existing mapping is never replaced,
    /// and the kernel may choose another address.
    pub fn address_hint(&mut self, addr: usize) -> &mut Self {
        self.hint = addr;
        self
    }

    /// Sets or clears `flag` in the extra `MAP_*` flags.
    fn flag(&mut self, flag: MapFlags, on: bool) -> &mut Self {
        self.extra = if on {
            self.extra.union(flag)
        } else {
            self.extra.difference(flag)
        };
        self
    }

    /// `MAP_HUGETLB` (Linux) - backs an anonymous mapping with explicit
    /// huge pages of `size` from the kernel's pool.
    ///
    /// The mapping's length is rounded up to the huge page size, and so is
    /// the length memseg passes to `munmap` (`munmap` of a huge page mapping
    /// with a base-page length fails, and the mapping would leak). Ranges
    /// given to `msync`/`madvise`/`mlock` are widened to whole huge pages.
    ///
    /// Mapping fails with `ENOMEM` when the pool has too few free pages
    /// (it is empty unless the administrator fills
    /// `/proc/sys/vm/nr_hugepages`) and `EINVAL` for a size the kernel has
    /// no pool for; see [`HugePageSize::free_pages`]. Combined with
    /// [`no_reserve`](Self::no_reserve) it is rejected (`InvalidInput`):
    /// without a reservation a pool shortage is a SIGBUS at first touch.
    /// For a file mapping the file decides: a hugetlbfs file (a memfd made
    /// with [`MemfdOptions::huge_pages`](crate::MemfdOptions::huge_pages))
    /// is detected from its block size and handled the same way.
    ///
    /// # Examples
    /// See [`HugePageSize`].
    ///
    /// # References
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html), `MAP_HUGETLB`
    #[cfg(memseg_linux)]
    #[doc(alias = "MAP_HUGETLB")]
    pub fn huge_pages(&mut self, size: HugePageSize) -> &mut Self {
        self.huge = Some(size);
        self
    }

    /// `MAP_NORESERVE` (Linux, macOS) - reserves no swap space for the
    /// mapping, so a large sparse mapping does not count against the commit
    /// limit. With strict overcommit (`vm.overcommit_memory = 2`) Linux
    /// ignores it; if memory then runs out, touching a page raises SIGBUS
    /// (or wakes the OOM killer) instead of `mmap` failing. Not on FreeBSD,
    /// which has no such flag (the method does not exist there).
    ///
    /// # References
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html), `MAP_NORESERVE`
    #[cfg(any(memseg_linux, memseg_apple))]
    #[doc(alias = "MAP_NORESERVE")]
    pub fn no_reserve(&mut self, no_reserve: bool) -> &mut Self {
        self.flag(MapFlags::NORESERVE, no_reserve)
    }

    /// `MAP_LOCKED` (Linux) - locks the pages in RAM like `mlock(2)`, at map
    /// time. Best effort: unlike `mlock`, a failure to lock is not reported
    /// (use [`Mmap::lock`] for that). Counts against `RLIMIT_MEMLOCK`
    /// (`EAGAIN` past it for unprivileged processes).
    ///
    /// # References
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html), `MAP_LOCKED`
    #[cfg(memseg_linux)]
    #[doc(alias = "MAP_LOCKED")]
    pub fn locked(&mut self, locked: bool) -> &mut Self {
        self.flag(MapFlags::LOCKED, locked)
    }

    /// `MAP_GROWSDOWN` (Linux) - a stack-like mapping: touching the guard
    /// page just below it makes the kernel extend it downwards. memseg's
    /// views never reach below the start, so only raw-pointer code can use
    /// the growth; the mapping memseg owns and unmaps is the original range.
    ///
    /// # References
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html), `MAP_GROWSDOWN`
    #[cfg(memseg_linux)]
    #[doc(alias = "MAP_GROWSDOWN")]
    pub fn grows_down(&mut self, grows_down: bool) -> &mut Self {
        self.flag(MapFlags::GROWSDOWN, grows_down)
    }

    /// `MAP_32BIT` (Linux x86 and x86_64) - places the mapping in the first
    /// 2 GiB of the address space (for code that stores pointers in 32
    /// bits); `ENOMEM` once that space is used up. Ignored with an address
    /// hint.
    ///
    /// # References
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html), `MAP_32BIT`
    #[cfg(all(memseg_linux, any(target_arch = "x86_64", target_arch = "x86")))]
    #[doc(alias = "MAP_32BIT")]
    pub fn map_32bit(&mut self, map_32bit: bool) -> &mut Self {
        self.flag(MapFlags::_32BIT, map_32bit)
    }

    /// `MAP_STACK` (Linux) - marks the mapping as a thread stack. Since
    /// Linux 5.7 it also keeps transparent huge pages away from it; before
    /// that it was a no-op kept for portability.
    ///
    /// # References
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html), `MAP_STACK`
    #[cfg(memseg_linux)]
    #[doc(alias = "MAP_STACK")]
    pub fn stack(&mut self, stack: bool) -> &mut Self {
        self.flag(MapFlags::STACK, stack)
    }

    /// `MAP_NONBLOCK` (Linux) - with [`populate`](Self::populate), do not
    /// wait for read-ahead. Ignored by Linux since 2.6.23 (it now makes
    /// `MAP_POPULATE` do nothing only in theory; the kernel simply ignores
    /// it); kept because users of other crates ask for it.
    ///
    /// # References
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html), `MAP_NONBLOCK`
    #[cfg(memseg_linux)]
    #[doc(alias = "MAP_NONBLOCK")]
    pub fn nonblock(&mut self, nonblock: bool) -> &mut Self {
        self.flag(MapFlags::NONBLOCK, nonblock)
    }

    /// `MAP_SHARED_VALIDATE | MAP_SYNC` (Linux 4.15+) - for a file on a DAX
    /// file system (persistent memory): the file's metadata is made durable
    /// before a page becomes writable, so CPU cache flushes alone persist
    /// stores. Fails with `EOPNOTSUPP` on every other file system (tmpfs,
    /// ext4 without DAX, ...), which is the point of `MAP_SHARED_VALIDATE`:
    /// the flag is never silently ignored. Rejected (`InvalidInput`) for
    /// private and anonymous mappings.
    ///
    /// # References
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html), `MAP_SYNC`
    #[cfg(memseg_linux)]
    #[doc(alias = "MAP_SYNC")]
    pub fn map_sync(&mut self, sync: bool) -> &mut Self {
        self.sync = sync;
        self
    }

    /// `MAP_FIXED_NOREPLACE` (Linux 4.17+) or `MAP_FIXED | MAP_EXCL`
    /// (FreeBSD) - places the mapping exactly at `addr` (page-aligned), or
    /// fails with `EEXIST` if anything is mapped there. It never replaces an
    /// existing mapping, which is why it is safe (plain `MAP_FIXED`, which
    /// does, is not offered).
    ///
    /// Linux before 4.17 does not know the flag and treats `addr` as a hint;
    /// memseg checks the address it got, and if it differs unmaps it and
    /// returns `EEXIST` too. Overrides [`address_hint`](Self::address_hint).
    /// Not on macOS (no such flag; the method does not exist there).
    ///
    /// # Errors (at map time)
    /// `EEXIST` ([`io::ErrorKind::AlreadyExists`]) if the range is in use,
    /// `EINVAL` for an address that is not page-aligned, `EPERM` below
    /// `vm.mmap_min_addr`.
    ///
    /// # References
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html), `MAP_FIXED_NOREPLACE`
    #[cfg(any(memseg_linux, memseg_freebsd))]
    #[doc(alias = "MAP_FIXED_NOREPLACE", alias = "MAP_EXCL")]
    pub fn fixed_noreplace_at(&mut self, addr: usize) -> &mut Self {
        self.hint = addr;
        self.exact = true;
        self
    }

    /// `MAP_NOCACHE` (macOS) - the mapping's pages are the first to be
    /// evicted under memory pressure.
    ///
    /// # References
    /// - [`mmap(2)` on macOS](https://developer.apple.com/library/archive/documentation/System/Conceptual/ManPages_iPhoneOS/man2/mmap.2.html)
    #[cfg(memseg_apple)]
    #[doc(alias = "MAP_NOCACHE")]
    pub fn no_cache(&mut self, no_cache: bool) -> &mut Self {
        self.flag(MapFlags::NOCACHE, no_cache)
    }

    /// `MAP_NOSYNC` (FreeBSD) - dirty pages of a shared file mapping are
    /// written back only under memory pressure, on `msync` or at `munmap`,
    /// not by the periodic syncer.
    ///
    /// # References
    /// - [FreeBSD `mmap(2)`](https://man.freebsd.org/cgi/man.cgi?query=mmap&sektion=2)
    #[cfg(memseg_freebsd)]
    #[doc(alias = "MAP_NOSYNC")]
    pub fn no_sync(&mut self, no_sync: bool) -> &mut Self {
        self.flag(MapFlags::NOSYNC, no_sync)
    }

    /// `MAP_NOCORE` (FreeBSD) - leaves the mapping out of core dumps.
    ///
    /// # References
    /// - [FreeBSD `mmap(2)`](https://man.freebsd.org/cgi/man.cgi?query=mmap&sektion=2)
    #[cfg(memseg_freebsd)]
    #[doc(alias = "MAP_NOCORE")]
    pub fn no_core(&mut self, no_core: bool) -> &mut Self {
        self.flag(MapFlags::NOCORE, no_core)
    }

    /// `MAP_ALIGNED_SUPER` (FreeBSD) - aligns the mapping so the kernel can
    /// back it with superpages (FreeBSD's transparent huge pages).
    ///
    /// # References
    /// - [FreeBSD `mmap(2)`](https://man.freebsd.org/cgi/man.cgi?query=mmap&sektion=2)
    #[cfg(memseg_freebsd)]
    #[doc(alias = "MAP_ALIGNED_SUPER")]
    pub fn aligned_super(&mut self, aligned: bool) -> &mut Self {
        self.flag(MapFlags::ALIGNED_SUPER, aligned)
    }

    /// `mmap(2)` - maps `fd` with these options as a typed [`Mmap`].
    ///
    /// # Errors
    /// `InvalidInput` (checked before `mmap`, arithmetic overflow included):
    /// the offset is past the end of the file, offset + length is past the
    /// end of the file, the length is smaller than a `T` or zero, the
    /// offset is not a multiple of `T`'s alignment, `T` is zero-sized or
    /// aligned above a page. The OS errors of `mmap(2)` (`EACCES`, `ENODEV`,
    /// `ENOMEM`, ...).
    ///
    /// # Safety
    /// As for [`Mmap::create`]: nothing else may change or truncate the
    /// mapped part of the file while the mapping lives (including parts it
    /// covers after a resize).
    pub unsafe fn map<P: Protection>(&self, fd: impl AsFd, prot: P) -> io::Result<Mmap<T, P>> {
        let _ = prot;
        self.map_inner(Some(fd.as_fd()), P::FLAGS)
            .map(Mmap::from_inner)
    }

    /// `mmap(2)` with `MAP_ANONYMOUS` - zeroed memory of [`len`](Self::len)
    /// bytes, shared with children forked later unless
    /// [`private`](Self::private).
    ///
    /// # Errors
    /// `InvalidInput` without a length, with a non-zero offset, or for the
    /// layout rules of [`map`](Self::map); `ENOMEM`.
    pub fn map_anonymous<P: Protection>(&self, prot: P) -> io::Result<Mmap<T, P>> {
        let _ = prot;
        self.map_inner(None, P::FLAGS).map(Mmap::from_inner)
    }

    /// `mmap(2)` - maps `fd` as a [`SharedMmap`]: safe, because a
    /// `SharedMmap` never hands out references to plain data that other
    /// processes may change.
    ///
    /// # Errors
    /// As [`map`](Self::map).
    pub fn map_shared<P: Protection>(
        &self,
        fd: impl AsFd,
        prot: P,
    ) -> io::Result<SharedMmap<T, P>> {
        let _ = prot;
        self.map_inner(Some(fd.as_fd()), P::FLAGS)
            .map(SharedMmap::from_inner)
    }

    /// Checks every rule, then maps.
    pub(crate) fn map_inner(
        &self,
        fd: Option<BorrowedFd<'_>>,
        prot: ProtFlags,
    ) -> io::Result<MapInner> {
        let (size, align) = (size_of::<T>(), align_of::<T>());
        let page = raw::page_size();
        if size == 0 {
            return Err(invalid("mmap: the mapped type must not be zero-sized"));
        }
        if align > page {
            return Err(invalid(format!(
                "mmap: the mapped type's alignment ({}) is larger than a page ({})",
                align, page
            )));
        }
        if self.offset % align as u64 != 0 {
            return Err(invalid(format!(
                "mmap: offset {} is not a multiple of the mapped type's alignment ({})",
                self.offset, align
            )));
        }
        let mut flags = if self.private {
            MapFlags::PRIVATE
        } else {
            MapFlags::SHARED
        };
        let (len, meta) = match fd {
            Some(fd) => {
                let (len, meta) = file_window(fd, self.offset, self.len)?;
                (len, Some(meta))
            }
            None => {
                if self.offset != 0 {
                    return Err(invalid("mmap: an anonymous mapping has no offset"));
                }
                flags |= MapFlags::ANONYMOUS;
                let len = self
                    .len
                    .ok_or_else(|| invalid("mmap: an anonymous mapping needs a length"))?;
                (len, None)
            }
        };
        if len < size {
            return Err(invalid(format!(
                "mmap: the length ({} bytes) is smaller than the mapped type ({} bytes)",
                len, size
            )));
        }
        flags |= self.extra;
        let mut unmap_align = self.unmap_align.unwrap_or(page);
        if let Some(meta) = &meta {
            unmap_align = unmap_align.max(file_granule(meta));
        }
        #[cfg(memseg_linux)]
        {
            if let Some(huge) = self.huge {
                if flags.contains(MapFlags::NORESERVE) {
                    return Err(invalid(
                        "mmap: huge pages with no_reserve would turn a short huge page pool \
                         into SIGBUS at first touch instead of ENOMEM now",
                    ));
                }
                flags |= huge.map_flags();
                unmap_align = unmap_align.max(huge.bytes()?);
            }
            if self.sync {
                if fd.is_none() || self.private {
                    return Err(invalid(
                        "mmap: map_sync needs a shared mapping of a file (MAP_SHARED_VALIDATE)",
                    ));
                }
                flags = flags
                    .difference(MapFlags::SHARED)
                    .union(MapFlags::SHARED_VALIDATE)
                    .union(MapFlags::SYNC);
            }
        }
        #[cfg(memseg_linux)]
        if self.exact {
            flags |= MapFlags::FIXED_NOREPLACE;
        }
        #[cfg(memseg_freebsd)]
        if self.exact {
            flags |= MapFlags::FIXED | MapFlags::EXCL;
        }
        if self.populate {
            #[cfg(memseg_linux)]
            {
                flags |= MapFlags::POPULATE;
            }
            #[cfg(memseg_freebsd)]
            {
                flags |= MapFlags::PREFAULT_READ;
            }
        }
        let fd = match (fd, &meta) {
            (Some(fd), Some(meta)) => Some((fd, meta)),
            _ => None,
        };
        let inner = MapInner::map(self.hint, len, prot, flags, fd, self.offset, unmap_align)?;
        #[cfg(memseg_apple)]
        if self.populate {
            let (addr, len) = inner.page_range(0, inner.len())?;
            // SAFETY: WILLNEED only starts read-ahead; it never changes what
            // the pages contain. The range is inside our new mapping.
            unsafe { raw::madvise(addr, len, raw::Advice::WILLNEED)? };
        }
        Ok(inner)
    }
}
