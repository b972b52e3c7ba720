//! The mapping toolbox that [`Mmap`], [`SharedMmap`] and [`MmapFile`] share:
//! advice (`madvise`), locking (`mlock`/`munlock`), protection changes
//! (`mprotect`) and resizing (`mremap`), all over the one [`MapInner`].
//!
//! The methods are generated once by the `toolbox!` macro for the three types, so
//! they behave the same everywhere; what differs is written out per type
//! below it: `unchecked_advise` (unsafe where references are handed out,
//! safe on `SharedMmap`) and resizing (typed views keep `size_of::<T>()`).

use crate::advice::{self, Advice, Touch, UncheckedAdvice};
use crate::inner::MapInner;
use crate::prot::{Protection, ReadExec, ReadOnly, ReadWrite};
use crate::raw::{invalid, ProtFlags};
use crate::{Mmap, MmapFile, SharedMmap};
use std::error::Error;
use std::fmt;
use std::io;
use std::mem::size_of;
use std::os::unix::io::AsFd;

/// The error of a protection change (`into_read_only`, `into_read_write`,
/// ...): the `mprotect(2)` error, and the mapping itself, unchanged in type
/// and still usable.
///
/// It converts into [`io::Error`] (dropping the mapping), so `?` works in
/// functions returning `io::Result`.
///
/// # Examples
/// ```
/// use memseg::{Mmap, ReadOnly, ReadWrite, Shm};
/// let shm = Shm::create_unique("memseg-doc-prot-", 4096)?;
/// let ro_fd = memseg::ShmOptions::new().read(true).open(shm.name().as_str())?;
/// // SAFETY: the segment is private to this example.
/// let map = unsafe { Mmap::<u8>::create(&ro_fd, ReadOnly)? };
/// // A shared mapping of a read-only descriptor cannot become writable.
/// let err = map.into_read_write().unwrap_err();
/// assert_eq!(err.error().raw_os_error(), Some(memseg::sys::EACCES));
/// let map = err.into_mapping(); // still mapped, still ReadOnly
/// assert_eq!(map.as_slice()[0], 0);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct ProtectError<M> {
    mapping: M,
    error: io::Error,
}

impl<M> ProtectError<M> {
    /// The `mprotect` error.
    pub fn error(&self) -> &io::Error {
        &self.error
    }

    /// The mapping, with the protection (and type) it had before the call.
    pub fn into_mapping(self) -> M {
        self.mapping
    }

    /// The mapping and the error.
    pub fn into_parts(self) -> (M, io::Error) {
        (self.mapping, self.error)
    }
}

impl<M> fmt::Debug for ProtectError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtectError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<M> fmt::Display for ProtectError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mprotect: {}", self.error)
    }
}

impl<M> Error for ProtectError<M> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.error)
    }
}

impl<M> From<ProtectError<M>> for io::Error {
    /// The OS error, with its `raw_os_error()` intact; the mapping is dropped.
    fn from(e: ProtectError<M>) -> io::Error {
        e.error
    }
}

/// Generates the shared toolbox for `$ty<$g.., P>`. `$touch` says how the
/// populate fallback may touch a writable mapping ([`Touch`]).
macro_rules! toolbox {
    ($ty:ident [$($g:ident),*], $touch:expr) => {
        impl<$($g,)* P: Protection> $ty<$($g,)* P> {
            /// `madvise(2)` - advises the kernel about the whole mapping.
            ///
            /// Safe: [`Advice`] holds only advice that leaves the contents
            /// unchanged. `PopulateRead`/`PopulateWrite` (Linux) fall back to
            /// touching each page on kernels before 5.14 (see their docs).
            ///
            /// # Errors
            /// From the kernel: `EINVAL` (advice the kernel or this kind of
            /// mapping does not support, e.g. `HugePage` without THP, or
            /// `PopulateWrite` on a read-only mapping), `EFAULT`/`ENOMEM` from
            /// the populate advice (a page that cannot be backed), `EAGAIN`,
            /// `EPERM` (`Mergeable` where KSM forbids it).
            ///
            /// # Examples
            /// ```
            /// use memseg::{Advice, Mmap, ReadWrite};
            /// let map = Mmap::<u8>::anonymous(1 << 16, ReadWrite)?;
            /// map.advise(Advice::Sequential)?;
            /// # #[cfg(target_os = "linux")]
            /// map.advise(Advice::PopulateWrite)?; // fault it all in now
            /// # Ok::<(), std::io::Error>(())
            /// ```
            ///
            /// # References
            /// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
            #[doc(alias = "madvise")]
            pub fn advise(&self, advice: Advice) -> io::Result<()> {
                self.advise_range(advice, 0, self.inner.len())
            }

            /// `madvise(2)` - advises the kernel about `offset .. offset + len`
            /// of the mapping, widened to whole pages.
            ///
            /// The whole range (`offset + len`, with overflow checked) must lie
            /// inside the mapping: memseg checks both ends, not only `len`.
            ///
            /// # Errors
            /// `InvalidInput` for a range outside the mapping (before any
            /// system call); otherwise as [`advise`](Self::advise).
            ///
            /// # Examples
            /// ```
            /// use memseg::{Advice, Mmap, ReadWrite};
            /// let map = Mmap::<u8>::anonymous(8192, ReadWrite)?;
            /// map.advise_range(Advice::WillNeed, 4000, 200)?; // pages 0 and 1
            /// let err = map.advise_range(Advice::WillNeed, 8000, 200).unwrap_err();
            /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
            /// # Ok::<(), std::io::Error>(())
            /// ```
            ///
            /// # References
            /// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
            #[doc(alias = "madvise")]
            pub fn advise_range(&self, advice: Advice, offset: usize, len: usize) -> io::Result<()> {
                let writable = P::FLAGS.contains(ProtFlags::WRITE);
                advice::advise(&self.inner, advice, offset, len, writable, $touch)
            }

            /// `mlock(2)` - keeps every page of the mapping in RAM (faulting
            /// them in now) until [`unlock`](Self::unlock) or the mapping is
            /// dropped.
            ///
            /// # Errors
            /// `ENOMEM` past `RLIMIT_MEMLOCK` (`ulimit -l`) for unprivileged
            /// processes, `EPERM` when that limit is 0, `EAGAIN`.
            ///
            /// # Examples
            /// ```
            /// use memseg::{Mmap, ReadWrite};
            /// let map = Mmap::<u8>::anonymous(4096, ReadWrite)?;
            /// if map.lock().is_ok() { // may exceed RLIMIT_MEMLOCK
            ///     map.unlock()?;
            /// }
            /// # Ok::<(), std::io::Error>(())
            /// ```
            ///
            /// # References
            /// - [`mlock(2)`](https://man7.org/linux/man-pages/man2/mlock.2.html)
            #[doc(alias = "mlock")]
            pub fn lock(&self) -> io::Result<()> {
                self.inner.lock(0, self.inner.len(), true)
            }

            /// `munlock(2)` - lets the mapping's pages be swapped again.
            ///
            /// # Errors
            /// `ENOMEM` only on a memseg bug (the range is always mapped).
            ///
            /// # References
            /// - [`munlock(2)`](https://man7.org/linux/man-pages/man2/munlock.2.html)
            #[doc(alias = "munlock")]
            pub fn unlock(&self) -> io::Result<()> {
                self.inner.lock(0, self.inner.len(), false)
            }

            /// `mlock(2)` over `offset .. offset + len`, widened to whole pages.
            ///
            /// # Errors
            /// `InvalidInput` for a range outside the mapping (before any
            /// system call); otherwise as [`lock`](Self::lock).
            ///
            /// # References
            /// - [`mlock(2)`](https://man7.org/linux/man-pages/man2/mlock.2.html)
            #[doc(alias = "mlock")]
            pub fn lock_range(&self, offset: usize, len: usize) -> io::Result<()> {
                self.inner.lock(offset, len, true)
            }

            /// `mlock2(2)` with `MLOCK_ONFAULT` (Linux 4.4+) - keeps the
            /// mapping's pages in RAM as they are faulted in, without
            /// faulting them all in now; [`unlock`](Self::unlock) ends it.
            ///
            /// # Errors
            /// As [`lock`](Self::lock); `ENOSYS` before Linux 4.4.
            ///
            /// # Examples
            /// ```
            /// use memseg::{Mmap, ReadWrite};
            /// let map = Mmap::<u8>::anonymous(1 << 20, ReadWrite)?;
            /// if map.lock_on_fault().is_ok() { // may exceed RLIMIT_MEMLOCK
            ///     map.unlock()?;
            /// }
            /// # Ok::<(), std::io::Error>(())
            /// ```
            ///
            /// # References
            /// - [`mlock2(2)`](https://man7.org/linux/man-pages/man2/mlock2.2.html)
            #[cfg(memseg_linux)]
            #[doc(alias = "mlock2")]
            pub fn lock_on_fault(&self) -> io::Result<()> {
                self.inner.lock_on_fault(0, self.inner.len())
            }

            /// `mlock2(2)` with `MLOCK_ONFAULT` over `offset .. offset + len`,
            /// widened to whole pages (Linux 4.4+).
            ///
            /// # Errors
            /// `InvalidInput` for a range outside the mapping; otherwise as
            /// [`lock_on_fault`](Self::lock_on_fault).
            ///
            /// # References
            /// - [`mlock2(2)`](https://man7.org/linux/man-pages/man2/mlock2.2.html)
            #[cfg(memseg_linux)]
            #[doc(alias = "mlock2")]
            pub fn lock_range_on_fault(&self, offset: usize, len: usize) -> io::Result<()> {
                self.inner.lock_on_fault(offset, len)
            }

            /// `munlock(2)` over `offset .. offset + len`, widened to whole
            /// pages.
            ///
            /// # Errors
            /// `InvalidInput` for a range outside the mapping.
            ///
            /// # References
            /// - [`munlock(2)`](https://man7.org/linux/man-pages/man2/munlock.2.html)
            #[doc(alias = "munlock")]
            pub fn unlock_range(&self, offset: usize, len: usize) -> io::Result<()> {
                self.inner.lock(offset, len, false)
            }

            /// `mprotect(2)` - changes the whole mapping's protection to `Q`,
            /// consuming it and returning it typed by what it now allows.
            ///
            /// On failure the mapping comes back unchanged in the error
            /// ([`ProtectError::into_mapping`]). Making memory executable is
            /// safe: jumping into it takes `unsafe`.
            ///
            /// # Errors
            /// `EACCES`: a shared mapping whose descriptor does not allow `Q`
            /// (`PROT_WRITE` on a read-only descriptor or a write-sealed
            /// memfd, `PROT_EXEC` on a `noexec` mount), `ENOMEM`.
            ///
            /// # References
            /// - [`mprotect(2)`](https://man7.org/linux/man-pages/man2/mprotect.2.html)
            #[doc(alias = "mprotect")]
            pub fn into_protection<Q: Protection>(
                self,
            ) -> Result<$ty<$($g,)* Q>, ProtectError<Self>> {
                let mut inner = self.inner;
                match inner.protect(Q::FLAGS, P::FLAGS) {
                    Ok(()) => Ok($ty::from_inner(inner)),
                    Err(error) => Err(ProtectError {
                        mapping: $ty::from_inner(inner),
                        error,
                    }),
                }
            }

            /// `mprotect(PROT_READ)` - makes the mapping read-only; a store
            /// into it then raises SIGSEGV.
            ///
            /// # Errors
            /// As [`into_protection`](Self::into_protection) (`ENOMEM`).
            ///
            /// # Examples
            /// ```
            /// use memseg::{Mmap, ReadWrite};
            /// let mut map = Mmap::<u64>::anonymous(4096, ReadWrite)?;
            /// *map.object_mut() = 42;
            /// let frozen = map.into_read_only()?; // Mmap<u64, ReadOnly>: no object_mut
            /// assert_eq!(*frozen.object(), 42);
            /// let mut map = frozen.into_read_write()?;
            /// *map.object_mut() = 43;
            /// # Ok::<(), std::io::Error>(())
            /// ```
            ///
            /// # References
            /// - [`mprotect(2)`](https://man7.org/linux/man-pages/man2/mprotect.2.html)
            #[doc(alias = "mprotect")]
            pub fn into_read_only(self) -> Result<$ty<$($g,)* ReadOnly>, ProtectError<Self>> {
                self.into_protection()
            }

            /// `mprotect(PROT_READ | PROT_WRITE)` - makes the mapping writable.
            ///
            /// # Errors
            /// `EACCES` for a shared mapping of a descriptor opened read-only
            /// or of a write-sealed memfd (private mappings may always become
            /// writable: stores go to private copies).
            ///
            /// # References
            /// - [`mprotect(2)`](https://man7.org/linux/man-pages/man2/mprotect.2.html)
            #[doc(alias = "mprotect")]
            pub fn into_read_write(self) -> Result<$ty<$($g,)* ReadWrite>, ProtectError<Self>> {
                self.into_protection()
            }

            /// `mprotect(PROT_READ | PROT_EXEC)` - makes the mapping
            /// executable and read-only (never writable and executable at
            /// once).
            ///
            /// # Errors
            /// `EACCES` for a file on a `noexec` mount; `EACCES`/`EPERM` where
            /// a security policy (SELinux `execmem`, PaX, hardened macOS
            /// runtimes) forbids executable memory.
            ///
            /// # References
            /// - [`mprotect(2)`](https://man7.org/linux/man-pages/man2/mprotect.2.html)
            #[doc(alias = "mprotect")]
            pub fn into_read_exec(self) -> Result<$ty<$($g,)* ReadExec>, ProtectError<Self>> {
                self.into_protection()
            }
        }
    };
}

toolbox!(Mmap[T], Touch::Read);
toolbox!(SharedMmap[T], Touch::AtomicWrite);
toolbox!(MmapFile[], Touch::Read);

impl<T, P: Protection> Mmap<T, P> {
    /// `madvise(2)` - gives the whole mapping advice that may change its
    /// contents ([`UncheckedAdvice`]).
    ///
    /// # Errors
    /// From the kernel: `EINVAL` (advice this kind of mapping does not
    /// support: `Free`/`WipeOnFork` on shared mappings, `Remove` on private
    /// ones), `EACCES` (`Remove` on a read-only mapping), `EOPNOTSUPP`.
    ///
    /// # Safety
    /// After the call the range may read as zeros or as the file's current
    /// contents (see each [`UncheckedAdvice`]), and for `Remove` so does
    /// every other mapping of the same file or segment, in every process.
    /// No reference into the range (from this mapping or another) may be
    /// live across the call, the new contents must be valid values of `T`
    /// wherever they will be read as `T`, and the mapping's other users must
    /// expect the change.
    ///
    /// # Examples
    /// ```
    /// use memseg::{Mmap, ReadWrite, UncheckedAdvice};
    /// let mut map = Mmap::<u64>::options().len(4096).private(true).map_anonymous(ReadWrite)?;
    /// *map.object_mut() = 7;
    /// // SAFETY: no reference into the mapping is live, and zero is a u64.
    /// unsafe { map.unchecked_advise(UncheckedAdvice::DontNeed)? };
    /// # #[cfg(target_os = "linux")]
    /// assert_eq!(*map.object(), 0); // private anonymous pages read as zeros
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
    #[doc(alias = "madvise")]
    pub unsafe fn unchecked_advise(&self, advice: UncheckedAdvice) -> io::Result<()> {
        // SAFETY: the caller takes on the same contract.
        unsafe { self.unchecked_advise_range(advice, 0, self.inner.len()) }
    }

    /// `madvise(2)` over `offset .. offset + len` (widened to whole pages)
    /// with advice that may change the contents.
    ///
    /// # Errors
    /// `InvalidInput` for a range outside the mapping (before any system
    /// call); otherwise as [`unchecked_advise`](Self::unchecked_advise).
    ///
    /// # Safety
    /// As [`unchecked_advise`](Self::unchecked_advise), for the range widened
    /// to whole pages: bytes outside `offset .. offset + len` that share a
    /// page with it are affected too.
    ///
    /// # References
    /// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
    #[doc(alias = "madvise")]
    pub unsafe fn unchecked_advise_range(
        &self,
        advice: UncheckedAdvice,
        offset: usize,
        len: usize,
    ) -> io::Result<()> {
        // SAFETY: the caller vouches for the contents change; the range is
        // checked against the mapping inside.
        unsafe { self.inner.madvise(offset, len, advice.to_raw()) }
    }

    /// `mremap(2)` (Linux) - grows or shrinks an anonymous mapping to
    /// `new_len` bytes, keeping its contents (up to the smaller length; new
    /// bytes are zero). Typed views taken afterwards see the new length.
    ///
    /// On Linux the kernel moves the pages (`MREMAP_MAYMOVE`) without
    /// copying, except when a shared anonymous mapping grows: its backing
    /// object has a fixed size (new pages would raise SIGBUS), so memseg
    /// maps a new one and copies, and children forked earlier no longer
    /// share it. Elsewhere (no `mremap`) every resize maps anew and copies.
    /// The address may change, hence `&mut self`: no reference survives.
    ///
    /// # Errors
    /// `InvalidInput` (before any system call): a file mapping (use
    /// [`remap_file`](Self::remap_file)), or `new_len` smaller than
    /// `size_of::<T>()`. From the kernel: `ENOMEM`, `EAGAIN` (a locked
    /// mapping past `RLIMIT_MEMLOCK`). On error the mapping is unchanged.
    ///
    /// # Examples
    /// ```
    /// use memseg::{Mmap, ReadWrite};
    /// let mut v = Mmap::<u32>::options().len(4096).private(true).map_anonymous(ReadWrite)?;
    /// v.as_mut_slice()[1023] = 9;
    /// v.remap(1 << 20)?;
    /// assert_eq!(v.as_slice().len(), 1 << 18);
    /// assert_eq!(v.as_slice()[1023], 9);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`mremap(2)`](https://man7.org/linux/man-pages/man2/mremap.2.html)
    #[doc(alias = "mremap")]
    pub fn remap(&mut self, new_len: usize) -> io::Result<()> {
        if self.inner.is_file() {
            return Err(invalid(
                "remap: this is a file mapping; use remap_file with its descriptor",
            ));
        }
        check_typed_len::<T>(new_len)?;
        self.inner.remap(new_len, P::FLAGS, None)
    }

    /// `mremap(2)` (Linux; a new `mmap` + `munmap` elsewhere) - resizes a
    /// file mapping to `new_len` bytes from the same file offset.
    ///
    /// `fd` must be the file the mapping was made from (checked by device
    /// and inode) and the new range must lie inside it, as at creation:
    /// memseg never maps past the end of a file. Grow the file first (or use
    /// [`Shm::set_len_and_remap`](crate::Shm::set_len_and_remap), which does
    /// both). The promise made to the unsafe constructor covers whatever
    /// part of the file the mapping covers after the call.
    ///
    /// # Errors
    /// `InvalidInput` (before any system call): an anonymous mapping, a
    /// different file, `new_len` smaller than `size_of::<T>()`, or the new
    /// range past the end of the file. From the kernel: `ENOMEM`, `EAGAIN`.
    /// On error the mapping is unchanged.
    ///
    /// # References
    /// - [`mremap(2)`](https://man7.org/linux/man-pages/man2/mremap.2.html)
    #[doc(alias = "mremap")]
    pub fn remap_file(&mut self, fd: impl AsFd, new_len: usize) -> io::Result<()> {
        remap_file::<T>(&mut self.inner, fd, new_len, P::FLAGS)
    }
}

impl<T, P: Protection> SharedMmap<T, P> {
    /// `madvise(2)` - gives the whole mapping advice that may change its
    /// contents ([`UncheckedAdvice`]).
    ///
    /// Safe here, unlike [`Mmap::unchecked_advise`]: a `SharedMmap` hands
    /// out no references to plain data (only volatile copies and atomics),
    /// so pages that suddenly read as zeros are just one more concurrent
    /// writer, which this type already allows for. (`Remove` still changes
    /// what every other process mapping the segment sees.)
    ///
    /// # Errors
    /// As [`Mmap::unchecked_advise`].
    ///
    /// # References
    /// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
    #[doc(alias = "madvise")]
    pub fn unchecked_advise(&self, advice: UncheckedAdvice) -> io::Result<()> {
        self.unchecked_advise_range(advice, 0, self.inner.len())
    }

    /// `madvise(2)` over `offset .. offset + len` (widened to whole pages)
    /// with advice that may change the contents. Safe, as
    /// [`unchecked_advise`](Self::unchecked_advise).
    ///
    /// # Errors
    /// `InvalidInput` for a range outside the mapping; as
    /// [`Mmap::unchecked_advise`].
    ///
    /// # References
    /// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
    #[doc(alias = "madvise")]
    pub fn unchecked_advise_range(
        &self,
        advice: UncheckedAdvice,
        offset: usize,
        len: usize,
    ) -> io::Result<()> {
        // SAFETY: no plain reference into a SharedMmap exists (it hands out
        // volatile copies and atomics only), and every byte pattern is a
        // valid value of what it hands out (T: Pod / AtomicPod).
        unsafe { self.inner.madvise(offset, len, advice.to_raw()) }
    }

    /// `mremap(2)` (Linux; a new `mmap` + `munmap` elsewhere) - resizes the
    /// mapping to `new_len` bytes from the same file offset, as
    /// [`Mmap::remap_file`].
    ///
    /// # Errors
    /// As [`Mmap::remap_file`].
    ///
    /// # References
    /// - [`mremap(2)`](https://man7.org/linux/man-pages/man2/mremap.2.html)
    #[doc(alias = "mremap")]
    pub fn remap_file(&mut self, fd: impl AsFd, new_len: usize) -> io::Result<()> {
        remap_file::<T>(&mut self.inner, fd, new_len, P::FLAGS)
    }
}

impl<P: Protection> MmapFile<P> {
    /// `madvise(2)` - gives the whole mapping advice that may change its
    /// contents ([`UncheckedAdvice`]).
    ///
    /// # Errors
    /// As [`Mmap::unchecked_advise`].
    ///
    /// # Safety
    /// As [`Mmap::unchecked_advise`]: no reference from
    /// [`buffer`](Self::buffer) may be live, and the file's other users must
    /// expect the change.
    ///
    /// # References
    /// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
    #[doc(alias = "madvise")]
    pub unsafe fn unchecked_advise(&self, advice: UncheckedAdvice) -> io::Result<()> {
        // SAFETY: the caller takes on the same contract.
        unsafe { self.unchecked_advise_range(advice, 0, self.inner.len()) }
    }

    /// `madvise(2)` over `offset .. offset + len` (widened to whole pages)
    /// with advice that may change the contents.
    ///
    /// # Errors
    /// `InvalidInput` for a range outside the mapping; as
    /// [`Mmap::unchecked_advise`].
    ///
    /// # Safety
    /// As [`Mmap::unchecked_advise_range`].
    ///
    /// # References
    /// - [`madvise(2)`](https://man7.org/linux/man-pages/man2/madvise.2.html)
    #[doc(alias = "madvise")]
    pub unsafe fn unchecked_advise_range(
        &self,
        advice: UncheckedAdvice,
        offset: usize,
        len: usize,
    ) -> io::Result<()> {
        // SAFETY: the caller vouches for the contents change.
        unsafe { self.inner.madvise(offset, len, advice.to_raw()) }
    }

    /// `fstat(2)` + `mremap(2)` - follows the file's current size: grows or
    /// shrinks the mapping to the whole file again (an empty file unmaps
    /// it, a grown one maps it). [`buffer`](Self::buffer) afterwards shows
    /// the new size.
    ///
    /// # Errors
    /// `InvalidInput` if `fd` is not the file the mapping was made from
    /// (device and inode). From the kernel: `ENOMEM`. On error the mapping
    /// is unchanged.
    ///
    /// # References
    /// - [`mremap(2)`](https://man7.org/linux/man-pages/man2/mremap.2.html)
    /// - [`fstat(2)`](https://man7.org/linux/man-pages/man2/fstat.2.html)
    #[doc(alias = "mremap")]
    pub fn remap(&mut self, fd: impl AsFd) -> io::Result<()> {
        let fd = fd.as_fd();
        let (len, meta) = crate::inner::file_window(fd, 0, None)?;
        if len == 0 {
            // Check the identity before dropping the mapping.
            if !self.inner.is_same_file(&meta) {
                return Err(invalid(
                    "remap: the descriptor is not the file this mapping was made from",
                ));
            }
            self.inner = MapInner::empty_file(&meta);
            return Ok(());
        }
        self.inner.remap(len, P::FLAGS, Some(fd))
    }
}

/// Rejects a view length that cannot hold a `T`.
fn check_typed_len<T>(new_len: usize) -> io::Result<()> {
    if new_len < size_of::<T>() || new_len == 0 {
        return Err(invalid(format!(
            "remap: the new length ({} bytes) is smaller than the mapped type ({} bytes)",
            new_len,
            size_of::<T>()
        )));
    }
    Ok(())
}

/// The body of `Mmap::remap_file` and `SharedMmap::remap_file`.
fn remap_file<T>(
    inner: &mut MapInner,
    fd: impl AsFd,
    new_len: usize,
    prot: ProtFlags,
) -> io::Result<()> {
    if !inner.is_file() {
        return Err(invalid(
            "remap_file: this is an anonymous mapping; use remap",
        ));
    }
    check_typed_len::<T>(new_len)?;
    inner.remap(new_len, prot, Some(fd.as_fd()))
}

/// Mappings that [`Shm::set_len_and_remap`](crate::Shm::set_len_and_remap)
/// can resize along with their segment: [`Mmap`], [`SharedMmap`] and
/// [`MmapFile`]. Sealed: implemented only by memseg's mapping types.
pub trait Remap: sealed::Sealed {}

pub(crate) mod sealed {
    use crate::inner::MapInner;
    use crate::raw::ProtFlags;

    /// What resizing needs from a mapping type.
    pub trait Sealed {
        /// The owner of the mapping.
        fn inner_mut(&mut self) -> &mut MapInner;
        /// The protection of the mapping.
        fn prot(&self) -> ProtFlags;
        /// The smallest view the type allows (`size_of::<T>()`, or 0 for
        /// bytes, which may be empty).
        fn min_len(&self) -> usize;
    }
}

impl<T, P: Protection> Remap for Mmap<T, P> {}
impl<T, P: Protection> sealed::Sealed for Mmap<T, P> {
    fn inner_mut(&mut self) -> &mut MapInner {
        &mut self.inner
    }
    fn prot(&self) -> ProtFlags {
        P::FLAGS
    }
    fn min_len(&self) -> usize {
        size_of::<T>()
    }
}

impl<T, P: Protection> Remap for SharedMmap<T, P> {}
impl<T, P: Protection> sealed::Sealed for SharedMmap<T, P> {
    fn inner_mut(&mut self) -> &mut MapInner {
        &mut self.inner
    }
    fn prot(&self) -> ProtFlags {
        P::FLAGS
    }
    fn min_len(&self) -> usize {
        size_of::<T>()
    }
}

impl<P: Protection> Remap for MmapFile<P> {}
impl<P: Protection> sealed::Sealed for MmapFile<P> {
    fn inner_mut(&mut self) -> &mut MapInner {
        &mut self.inner
    }
    fn prot(&self) -> ProtFlags {
        P::FLAGS
    }
    fn min_len(&self) -> usize {
        0
    }
}

impl crate::Shm {
    /// `posix_fallocate(3)`/`ftruncate(2)` + `mremap(2)` - resizes the
    /// segment to `new_len` bytes and `map` (a mapping of it) with it, in
    /// one call, in the order that never leaves the mapping past the end
    /// of the segment: growing resizes the segment first (reserving the
    /// space, as [`Shm::set_len`](crate::Shm::set_len)) and then the
    /// mapping; shrinking the other way round.
    ///
    /// The mapping's view keeps its start and ends at the segment's new end.
    /// Typed views taken from `map` afterwards see the new length; other
    /// processes see the new size with `fstat` (or [`Shm::open`](crate::Shm::open))
    /// and map it themselves. Other mappings of the segment in this process
    /// are not resized (after shrinking, touching their pages past the new
    /// end raises SIGBUS).
    ///
    /// # Errors
    /// `InvalidInput` (before any change): `map` is not a mapping of this
    /// segment, or the new view would be shorter than its `T` (a typed
    /// mapping never shrinks below one `T`). Otherwise the errors of
    /// [`Shm::set_len`](crate::Shm::set_len) (`ENOSPC`, `EINVAL` for a
    /// second size on macOS) and of `mremap` (`ENOMEM`). If the segment was
    /// resized but the mapping could not follow, the segment keeps its new
    /// size and the mapping its old one (which then still lies inside it).
    ///
    /// # Examples
    /// ```
    /// use memseg::{Mmap, ReadWrite, Shm};
    /// let mut shm = Shm::create_unique("memseg-doc-grow-", 4096)?;
    /// // SAFETY: the segment is private to this example.
    /// let mut map = unsafe { Mmap::<u64>::create(&shm, ReadWrite)? };
    /// map.as_mut_slice()[0] = 1;
    /// # #[cfg(not(target_os = "macos"))] { // macOS sizes a segment once
    /// shm.set_len_and_remap(1 << 20, &mut map)?;
    /// assert_eq!(shm.len(), 1 << 20);
    /// assert_eq!(map.len(), 1 << 20);
    /// assert_eq!(map.as_slice()[0], 1);
    /// map.as_mut_slice()[(1 << 17) - 1] = 2; // the new last u64
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`ftruncate(2)`](https://man7.org/linux/man-pages/man2/ftruncate.2.html)
    /// - [`posix_fallocate(3)`](https://man7.org/linux/man-pages/man3/posix_fallocate.3.html)
    /// - [`mremap(2)`](https://man7.org/linux/man-pages/man2/mremap.2.html)
    #[doc(alias = "ftruncate", alias = "mremap")]
    pub fn set_len_and_remap<M: Remap>(&mut self, new_len: u64, map: &mut M) -> io::Result<()> {
        let meta = self.file().metadata()?;
        let (min_len, prot) = (map.min_len(), map.prot());
        let inner = map.inner_mut();
        let view_offset = match inner.view_offset() {
            Some(off) if inner.is_same_file(&meta) => off,
            _ => {
                return Err(invalid(
                    "set_len_and_remap: the mapping is not a mapping of this segment",
                ))
            }
        };
        let new_view = new_len
            .checked_sub(view_offset)
            .and_then(|v| usize::try_from(v).ok())
            .filter(|&v| v >= min_len)
            .ok_or_else(|| {
                invalid(format!(
                    "set_len_and_remap: a segment of {} bytes leaves less than the mapped type \
                     ({} bytes) from the mapping's offset {}",
                    new_len, min_len, view_offset
                ))
            })?;
        // The size read above stays current across the remap, which never
        // resizes the object: set_len need not ask again.
        if new_len >= meta.len() {
            self.resize_from(meta.len(), new_len)?;
            remap_view(inner, self, new_view, prot)
        } else {
            remap_view(inner, self, new_view, prot)?;
            self.resize_from(meta.len(), new_len)
        }
    }
}

/// Resizes `inner` to `new_view` bytes of `fd`'s file (0: unmaps it).
fn remap_view(
    inner: &mut MapInner,
    fd: &impl AsFd,
    new_view: usize,
    prot: ProtFlags,
) -> io::Result<()> {
    if new_view == 0 {
        let meta = crate::inner::metadata(fd.as_fd())?;
        *inner = MapInner::empty_file(&meta);
        return Ok(());
    }
    inner.remap(new_view, prot, Some(fd.as_fd()))
}

/// `mlockall(2)` - locks every page of the process in RAM: those mapped now
/// (`MlockAllFlags::CURRENT`), those mapped later (`FUTURE`), and on Linux
/// only as they are faulted in (`ONFAULT`).
///
/// Safe: it changes no memory contents; past `RLIMIT_MEMLOCK` it fails, or
/// makes later allocations fail.
///
/// # Errors
/// `ENOMEM` past `RLIMIT_MEMLOCK`, `EPERM` when that limit is 0 for an
/// unprivileged process, `EINVAL` for an empty flag set.
///
/// # Examples
/// ```
/// use memseg::{lock_all, unlock_all, MlockAllFlags};
/// if lock_all(MlockAllFlags::CURRENT).is_ok() { // may exceed RLIMIT_MEMLOCK
///     unlock_all()?;
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
/// - [`mlockall(2)`](https://man7.org/linux/man-pages/man2/mlockall.2.html)
#[doc(alias = "mlockall")]
pub fn lock_all(flags: crate::raw::MlockAllFlags) -> io::Result<()> {
    crate::raw::mlockall(flags)
}

/// `munlockall(2)` - unlocks every page of the process and ends
/// `MCL_FUTURE`.
///
/// # Errors
/// None in practice.
///
/// # References
/// - [`munlockall(2)`](https://man7.org/linux/man-pages/man2/munlockall.2.html)
#[doc(alias = "munlockall")]
pub fn unlock_all() -> io::Result<()> {
    crate::raw::munlockall()
}
