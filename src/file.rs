//! `MmapFile<P>`: the whole file, mapped as bytes - the seed's `x::mmapfile`.

use crate::inner::MapInner;
use crate::prot::{Protection, ReadWrite, Writable};
use crate::raw::MsyncFlags;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::os::unix::io::AsFd;

/// The entire contents of a file, mapped shared, as a byte buffer.
///
/// An empty file gives an empty buffer without calling `mmap` (which would
/// fail with `EINVAL`; the C++ library throws here).
///
/// # Examples
/// ```
/// use memseg::{MmapFile, ReadOnly};
/// use std::io::Write;
/// let path = std::env::temp_dir().join(format!("memseg-doc-file-{}", std::process::id()));
/// std::fs::write(&path, b"Hello world!")?;
/// let file = std::fs::File::open(&path)?;
/// // SAFETY: the file is private to this example and not modified while mapped.
/// let map = unsafe { MmapFile::create(&file, ReadOnly)? };
/// assert_eq!(map.size(), 12);
/// assert_eq!(map.buffer(), b"Hello world!");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct MmapFile<P = ReadWrite> {
    pub(crate) inner: MapInner,
    _marker: PhantomData<P>,
}

// SAFETY: MmapFile owns its mapping (like Box<[u8]>); bytes are Send + Sync.
unsafe impl<P: Protection> Send for MmapFile<P> {}
// SAFETY: see Send.
unsafe impl<P: Protection> Sync for MmapFile<P> {}

impl MmapFile {
    /// `mmap(2)` - maps the whole file shared with protection `prot`; the
    /// seed's `x::mmapfile::create(fd, prot)`.
    ///
    /// # Errors
    /// `InvalidInput` if `fd` is not a regular file (its size is unknown);
    /// `EACCES` when the descriptor does not allow `prot`; `ENOMEM`, ...
    ///
    /// # Safety
    /// For as long as the mapping lives, nothing else may change or truncate
    /// the file (another process, or another descriptor or mapping in this
    /// one): `buffer()` hands out `&[u8]`, whose contents must not change
    /// underneath it, and a truncated page raises SIGBUS when touched. Use
    /// [`crate::SharedMmap`] where that cannot be promised.
    ///
    /// # References
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    pub unsafe fn create<P: Protection>(fd: impl AsFd, prot: P) -> io::Result<MmapFile<P>> {
        let _ = prot;
        let fd = fd.as_fd();
        MapInner::whole_file(fd, P::FLAGS).map(MmapFile::from_inner)
    }
}

impl<P: Protection> MmapFile<P> {
    pub(crate) fn from_inner(inner: MapInner) -> Self {
        MmapFile {
            inner,
            _marker: PhantomData,
        }
    }
}

impl<P: Protection> MmapFile<P> {
    /// The mapped file.
    pub fn buffer(&self) -> &[u8] {
        // SAFETY: the view is inside our mapping, readable, initialised (the
        // file's bytes), and unchanged while &self lives (the constructor's
        // contract). For an empty file it is a dangling, zero-length slice.
        unsafe { std::slice::from_raw_parts(self.inner.ptr(), self.inner.len()) }
    }

    /// The size of the mapped file in bytes.
    pub fn size(&self) -> usize {
        self.inner.len()
    }

    /// `msync(MS_SYNC)` - writes dirty pages back to the file and waits.
    ///
    /// # Errors
    /// Write-back errors of the file system (`EIO`, ...).
    ///
    /// # References
    /// - [`msync(2)`](https://man7.org/linux/man-pages/man2/msync.2.html)
    pub fn msync(&self) -> io::Result<()> {
        self.inner.msync(0, self.inner.len(), MsyncFlags::SYNC)
    }

    /// `msync(flags)` over `offset .. offset + len`, widened to whole pages.
    ///
    /// # Errors
    /// `InvalidInput` for a range outside the file; write-back errors.
    pub fn msync_range(&self, offset: usize, len: usize, flags: MsyncFlags) -> io::Result<()> {
        self.inner.msync(offset, len, flags)
    }
}

impl<P: Writable> MmapFile<P> {
    /// The mapped file, writable. Stores reach the file (shared mapping).
    pub fn buffer_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `buffer`, plus writable pages (P: Writable) and
        // &mut self makes this the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.inner.ptr(), self.inner.len()) }
    }
}

impl<P: Protection> fmt::Debug for MmapFile<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MmapFile")
            .field("prot", &P::FLAGS)
            .field("ptr", &self.inner.ptr())
            .field("size", &self.inner.len())
            .finish()
    }
}
