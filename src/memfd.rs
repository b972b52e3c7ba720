//! `Memfd`: anonymous in-memory files (`memfd_create(2)`, Linux and
//! FreeBSD 13+), their seals, and the safe read-only mappings that seals
//! make possible ([`Mmap::from_sealed`], [`MmapFile::from_sealed`]).

#[cfg(memseg_linux)]
use crate::huge::HugePageSize;
use crate::inner::MapInner;
use crate::mmap::{Mmap, MmapOptions};
use crate::prot::{Protection, ReadOnly};
use crate::raw::{self, invalid, MemfdFlags, SealFlags};
use crate::MmapFile;
use std::ffi::CString;
use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::io::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

/// Builds a [`Memfd`] - the flags of `memfd_create(2)`, shaped like
/// [`std::fs::OpenOptions`].
///
/// Defaults: close-on-exec (`MFD_CLOEXEC`), sealing not allowed, normal pages.
///
/// # Examples
/// ```
/// use memseg::{MemfdOptions, SealFlags};
/// let memfd = MemfdOptions::new().allow_sealing(true).create("demo")?;
/// memfd.set_len(4096)?;
/// memfd.add_seals(SealFlags::SHRINK)?;
/// assert!(memfd.seals()?.contains(SealFlags::SHRINK));
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
/// - [`memfd_create(2)`](https://man7.org/linux/man-pages/man2/memfd_create.2.html)
#[derive(Clone, Debug)]
pub struct MemfdOptions {
    flags: MemfdFlags,
}

impl Default for MemfdOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl MemfdOptions {
    /// The defaults: `MFD_CLOEXEC` only.
    pub fn new() -> Self {
        MemfdOptions {
            flags: MemfdFlags::CLOEXEC,
        }
    }

    /// Sets or clears `flag`.
    fn flag(&mut self, flag: MemfdFlags, on: bool) -> &mut Self {
        self.flags = if on {
            self.flags.union(flag)
        } else {
            self.flags.difference(flag)
        };
        self
    }

    /// `MFD_CLOEXEC` (default on): the descriptor is closed when this
    /// process `exec`s. Turn it off to hand the memfd to a program you
    /// spawn by descriptor number.
    pub fn close_on_exec(&mut self, cloexec: bool) -> &mut Self {
        self.flag(MemfdFlags::CLOEXEC, cloexec)
    }

    /// `MFD_ALLOW_SEALING` (default off): seals may be added later
    /// ([`Memfd::add_seals`]). Without it the memfd starts with
    /// `F_SEAL_SEAL` and adding seals fails with `EPERM`.
    pub fn allow_sealing(&mut self, allow: bool) -> &mut Self {
        self.flag(MemfdFlags::ALLOW_SEALING, allow)
    }

    /// `MFD_HUGETLB` (Linux 4.14+) - the memfd lives on hugetlbfs and is
    /// backed by explicit huge pages of `size` from the kernel's pool
    /// (mapping it fails with `ENOMEM` when the pool is short). Its length
    /// must be a multiple of the huge page size. memseg maps and unmaps it
    /// in whole huge pages. Sealing such a memfd needs Linux 4.16+.
    ///
    /// # References
    /// - [`memfd_create(2)`](https://man7.org/linux/man-pages/man2/memfd_create.2.html), `MFD_HUGETLB`
    #[cfg(memseg_linux)]
    #[doc(alias = "MFD_HUGETLB")]
    pub fn huge_pages(&mut self, size: HugePageSize) -> &mut Self {
        // Keep CLOEXEC and ALLOW_SEALING; replace any earlier size.
        let keep = MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING;
        self.flags =
            MemfdFlags::from_bits_retain(self.flags.bits() & keep.bits()).union(size.memfd_flags());
        self
    }

    /// `memfd_create(2)` - creates the memfd, empty, named `name` (the name
    /// is only a label shown in `/proc/<pid>/fd`; it needs not be unique).
    ///
    /// On Linux memseg makes the system call directly, so it works with C
    /// libraries that lack the wrapper (glibc before 2.27).
    ///
    /// # Errors
    /// `InvalidInput` (before the call) for a name with a NUL byte. From the
    /// kernel: `EINVAL` (name longer than 249 bytes, or flags it does not
    /// know, such as `MFD_HUGETLB` before Linux 4.14), `ENOSYS` (before
    /// Linux 3.17), `EMFILE`, `ENOMEM`.
    ///
    /// # References
    /// - [`memfd_create(2)`](https://man7.org/linux/man-pages/man2/memfd_create.2.html)
    #[doc(alias = "memfd_create")]
    pub fn create(&self, name: &str) -> io::Result<Memfd> {
        let name = CString::new(name)
            .map_err(|_| invalid("memfd_create: the name must not contain NUL"))?;
        let fd = raw::memfd_create(&name, self.flags)?;
        Ok(Memfd {
            file: File::from(fd),
        })
    }
}

/// `memfd_create(2)` handle - an anonymous file that lives in memory, and
/// its seals (Linux 3.17+, FreeBSD 13+).
///
/// Size it with [`set_len`](Self::set_len), fill it through
/// [`file`](Self::file) (`write_all_at`) or a writable mapping, then
/// [`seal_read_only`](Self::seal_read_only) it and hand the descriptor to
/// other processes (inheritance, `SCM_RIGHTS`, `/proc/<pid>/fd/<n>`): they
/// map it with [`Mmap::from_sealed`] or [`MmapFile::from_sealed`], which
/// are safe and hand out plain `&T` / `&[u8]`, because nobody can change or
/// shrink the contents any more.
///
/// # Examples
/// ```
/// use memseg::{Memfd, MmapFile};
/// use std::os::unix::fs::FileExt;
/// let memfd = Memfd::new("table")?; // sealing allowed
/// memfd.set_len(4096)?;
/// memfd.file().write_all_at(b"read-only data", 0)?;
/// memfd.seal_read_only()?;
/// let view = MmapFile::from_sealed(&memfd)?; // safe: the memfd is sealed
/// assert_eq!(&view.buffer()[..14], b"read-only data");
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
/// - [`memfd_create(2)`](https://man7.org/linux/man-pages/man2/memfd_create.2.html)
/// - [`fcntl(2)`](https://man7.org/linux/man-pages/man2/fcntl.2.html), "File Sealing"
pub struct Memfd {
    file: File,
}

impl Memfd {
    /// `memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING)` - a new, empty
    /// memfd that may be sealed. [`MemfdOptions`] chooses other flags.
    ///
    /// # Errors
    /// As [`MemfdOptions::create`].
    ///
    /// # References
    /// - [`memfd_create(2)`](https://man7.org/linux/man-pages/man2/memfd_create.2.html)
    #[doc(alias = "memfd_create")]
    pub fn new(name: &str) -> io::Result<Memfd> {
        MemfdOptions::new().allow_sealing(true).create(name)
    }

    /// The descriptor as a [`File`] (`write_all_at`, `read_at`, `metadata`,
    /// `try_clone`).
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Gives up the handle and returns the descriptor.
    pub fn into_file(self) -> File {
        self.file
    }

    /// `fstat(2)` - the current size in bytes.
    ///
    /// # Errors
    /// `EBADF` only on a bug.
    ///
    /// # References
    /// - [`fstat(2)`](https://man7.org/linux/man-pages/man2/fstat.2.html)
    pub fn len(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    /// `fstat(2)` - whether the size is 0 (as it is after creation).
    ///
    /// # Errors
    /// As [`len`](Self::len).
    pub fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }

    /// `ftruncate(2)` - sets the size; new bytes read as zeros.
    ///
    /// # Errors
    /// `EPERM` if `F_SEAL_SHRINK`/`F_SEAL_GROW` forbid the change, `EINVAL`
    /// for a hugetlb memfd and a length that is not a multiple of its page
    /// size, `EFBIG`.
    ///
    /// # References
    /// - [`ftruncate(2)`](https://man7.org/linux/man-pages/man2/ftruncate.2.html)
    #[doc(alias = "ftruncate")]
    pub fn set_len(&self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }

    /// `fcntl(F_GET_SEALS)` - the seals set so far.
    ///
    /// # Errors
    /// `EINVAL` only on a bug (a memfd always supports the call).
    ///
    /// # References
    /// - [`fcntl(2)`](https://man7.org/linux/man-pages/man2/fcntl.2.html), "File Sealing"
    #[doc(alias = "F_GET_SEALS")]
    pub fn seals(&self) -> io::Result<SealFlags> {
        raw::get_seals(self.file.as_fd())
    }

    /// `fcntl(F_ADD_SEALS)` - adds seals; they can never be removed.
    ///
    /// # Errors
    /// `EPERM` if `F_SEAL_SEAL` is set (always, for a memfd created without
    /// [`MemfdOptions::allow_sealing`]); `EBUSY` when adding
    /// `F_SEAL_WRITE` while a writable shared mapping of the memfd exists
    /// (in any process) or its pages are pinned for I/O; `EINVAL` for
    /// unknown seals (`FUTURE_WRITE` before Linux 5.1).
    ///
    /// # Examples
    /// ```
    /// use memseg::{Memfd, SealFlags};
    /// let memfd = Memfd::new("grow-only")?;
    /// memfd.set_len(4096)?;
    /// memfd.add_seals(SealFlags::SHRINK | SealFlags::SEAL)?;
    /// let err = memfd.set_len(0).unwrap_err();
    /// assert_eq!(err.raw_os_error(), Some(memseg::sys::EPERM));
    /// memfd.set_len(8192)?; // growing is still allowed
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`fcntl(2)`](https://man7.org/linux/man-pages/man2/fcntl.2.html), "File Sealing"
    #[doc(alias = "F_ADD_SEALS")]
    pub fn add_seals(&self, seals: SealFlags) -> io::Result<()> {
        raw::add_seals(self.file.as_fd(), seals)
    }

    /// `fcntl(F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
    /// F_SEAL_SEAL)` - freezes the contents and the size for good: what
    /// [`Mmap::from_sealed`] and [`MmapFile::from_sealed`] need (and a
    /// final seal set, so peers can rely on it never changing).
    ///
    /// Drop every writable shared mapping of the memfd first.
    ///
    /// # Errors
    /// `EBUSY` while a writable shared mapping exists (in any process),
    /// `EPERM` if sealing was not allowed or the seals are already final.
    ///
    /// # References
    /// - [`fcntl(2)`](https://man7.org/linux/man-pages/man2/fcntl.2.html), "File Sealing"
    pub fn seal_read_only(&self) -> io::Result<()> {
        self.add_seals(SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL)
    }
}

impl fmt::Debug for Memfd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Memfd")
            .field("fd", &self.file.as_raw_fd())
            .finish()
    }
}

impl AsFd for Memfd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl AsRawFd for Memfd {
    fn as_raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

impl From<Memfd> for File {
    fn from(memfd: Memfd) -> File {
        memfd.file
    }
}

impl From<Memfd> for OwnedFd {
    fn from(memfd: Memfd) -> OwnedFd {
        memfd.file.into()
    }
}

/// The seals without which a mapping's contents could still change or
/// shrink under it: `F_SEAL_SHRINK` (no truncation, so no SIGBUS) and
/// `F_SEAL_WRITE` (no `write(2)`, no writable shared mapping, and none left
/// from before: adding it fails with `EBUSY` while one exists).
///
/// `F_SEAL_GROW` is not required (growth does not touch mapped bytes), and
/// `F_SEAL_FUTURE_WRITE` does not suffice: it leaves writable mappings made
/// before it in place, so someone may still be writing.
const READ_ONLY_SEALS: SealFlags = SealFlags::SHRINK.union(SealFlags::WRITE);

/// `fcntl(F_GET_SEALS)` - checks that `fd` carries [`READ_ONLY_SEALS`].
fn check_sealed(fd: BorrowedFd<'_>) -> io::Result<()> {
    let seals = raw::get_seals(fd)?;
    if !seals.contains(READ_ONLY_SEALS) {
        return Err(invalid(format!(
            "from_sealed: the memfd's seals ({:?}) lack {:?}: its contents could still \
             change or shrink (F_SEAL_FUTURE_WRITE does not count: older writable mappings \
             may still write)",
            seals,
            READ_ONLY_SEALS.difference(seals)
        )));
    }
    Ok(())
}

impl<T> Mmap<T> {
    /// `fcntl(F_GET_SEALS)` + `mmap(2)` - maps a whole sealed memfd
    /// read-only, **safely**: the seals guarantee that nobody can change or
    /// shrink it any more, so the mapping may hand out plain `&T`.
    ///
    /// This is the safe way to share read-only data with other processes:
    /// the producer fills a [`Memfd`], calls [`Memfd::seal_read_only`] and
    /// passes the descriptor on; each consumer calls this.
    ///
    /// Required seals: `F_SEAL_SHRINK` and `F_SEAL_WRITE` (`F_SEAL_GROW`
    /// is not needed; `F_SEAL_FUTURE_WRITE` is not enough, because writable
    /// mappings made before it may still write).
    ///
    /// # Errors
    /// `InvalidInput` if a required seal is missing, or for the layout rules
    /// of [`MmapOptions::map`]; `EINVAL` if `fd` is not a memfd (no seals).
    ///
    /// # Examples
    /// ```
    /// use memseg::{Memfd, Mmap};
    /// use std::os::unix::fs::FileExt;
    /// let memfd = Memfd::new("config")?;
    /// memfd.set_len(4096)?;
    /// memfd.file().write_all_at(&42u64.to_ne_bytes(), 0)?;
    /// memfd.seal_read_only()?;
    /// let config = Mmap::<u64>::from_sealed(&memfd)?;
    /// let value: &u64 = config.object(); // a plain reference, no unsafe
    /// assert_eq!(*value, 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`fcntl(2)`](https://man7.org/linux/man-pages/man2/fcntl.2.html), "File Sealing"
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    pub fn from_sealed(fd: impl AsFd) -> io::Result<Mmap<T, ReadOnly>> {
        Self::options().map_sealed(fd)
    }
}

impl<T> MmapOptions<T> {
    /// `fcntl(F_GET_SEALS)` + `mmap(2)` - maps a sealed memfd read-only with
    /// these options (offset, length, private, populate, ...), safely; see
    /// [`Mmap::from_sealed`].
    ///
    /// # Errors
    /// As [`Mmap::from_sealed`].
    pub fn map_sealed(&self, fd: impl AsFd) -> io::Result<Mmap<T, ReadOnly>> {
        let fd = fd.as_fd();
        check_sealed(fd)?;
        // The seals are checked before mapping, and seals can only be added,
        // never removed, so they hold for the mapping's whole life.
        self.map_inner(Some(fd), ReadOnly::FLAGS)
            .map(Mmap::from_inner)
    }
}

impl MmapFile<ReadOnly> {
    /// `fcntl(F_GET_SEALS)` + `mmap(2)` - maps a whole sealed memfd as
    /// read-only bytes, safely; see [`Mmap::from_sealed`].
    ///
    /// # Errors
    /// As [`Mmap::from_sealed`].
    ///
    /// # References
    /// - [`fcntl(2)`](https://man7.org/linux/man-pages/man2/fcntl.2.html), "File Sealing"
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    pub fn from_sealed(fd: impl AsFd) -> io::Result<MmapFile<ReadOnly>> {
        let fd = fd.as_fd();
        check_sealed(fd)?;
        MapInner::whole_file(fd, ReadOnly::FLAGS).map(MmapFile::from_inner)
    }
}
