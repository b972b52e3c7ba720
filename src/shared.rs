//! `SharedMmap<T, P>`: the safe view of memory that other processes may
//! change at any time.

use crate::inner::MapInner;
use crate::mmap::{Mmap, MmapOptions};
use crate::pod::{AtomicPod, Pod};
use crate::prot::{Protection, ReadWrite, Writable};
use crate::raw::{invalid, MsyncFlags};
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::mem::size_of;
use std::os::unix::io::AsFd;
use std::ptr;

/// A mapping of a file or segment that other processes may write at any
/// time, with only the access that stays sound when they do.
///
/// It never hands out a reference to plain data. Instead it offers:
/// - **by-value volatile copies** in and out: [`read`](Self::read),
///   [`write`](Self::write), [`read_bytes`](Self::read_bytes),
///   [`write_bytes`](Self::write_bytes). `T` is [`Pod`], so a copy torn by a
///   concurrent writer is still a valid `T`;
/// - **atomics** by shared reference ([`atomic`](Self::atomic)) on writable
///   mappings, for counters, flags and locks shared between processes.
///
/// Another process truncating the file still makes touching the lost pages
/// raise SIGBUS (which terminates the process; it is not undefined
/// behaviour). A sealed memfd rules that out.
///
/// # Examples
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use memseg::{ReadWrite, SharedMmap, Shm};
/// let shm = Shm::create_unique("memseg-doc-shared-", 4096)?;
/// let counters = SharedMmap::<[AtomicU64; 4]>::create(&shm, ReadWrite)?;
/// counters.atomic()[0].fetch_add(1, Ordering::SeqCst);
/// let mut bytes = SharedMmap::<[u8; 8]>::create(&shm, ReadWrite)?;
/// assert_eq!(bytes.read(), 1u64.to_ne_bytes());
/// bytes.write(2u64.to_ne_bytes());
/// assert_eq!(counters.atomic()[0].load(Ordering::SeqCst), 2);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct SharedMmap<T, P = ReadWrite> {
    pub(crate) inner: MapInner,
    _marker: PhantomData<(T, P)>,
}

// SAFETY: the mapping is owned like a Box; what crosses threads is T values
// (copied out, hence Send) and &T for atomics (hence Sync).
unsafe impl<T: Send, P: Protection> Send for SharedMmap<T, P> {}
// SAFETY: &SharedMmap allows volatile reads (no references) and &T only
// for AtomicPod types, which are Sync.
unsafe impl<T: Sync, P: Protection> Sync for SharedMmap<T, P> {}

impl<T> SharedMmap<T> {
    /// `mmap(2)` - maps a whole file or segment, shared, from offset 0. Safe:
    /// see the type's documentation. Use [`MmapOptions::map_shared`] for an
    /// offset or a length.
    ///
    /// # Errors
    /// As [`Mmap::create`].
    ///
    /// # References
    /// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html)
    pub fn create<P: Protection>(fd: impl AsFd, prot: P) -> io::Result<SharedMmap<T, P>> {
        MmapOptions::<T>::new().map_shared(fd, prot)
    }
}

impl<T, P: Protection> SharedMmap<T, P> {
    pub(crate) fn from_inner(inner: MapInner) -> Self {
        SharedMmap {
            inner,
            _marker: PhantomData,
        }
    }

    /// The length of the mapping in bytes.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Always `false`: a mapping holds at least one `T`.
    pub fn is_empty(&self) -> bool {
        self.inner.len() == 0
    }

    /// The address of the mapping. Reading through it races with other
    /// processes; prefer the methods of this type.
    pub fn as_ptr(&self) -> *const T {
        self.inner.ptr() as *const T
    }

    /// Copies `buf.len()` bytes from `offset` in the mapping into `buf`,
    /// with volatile reads.
    ///
    /// # Errors
    /// `InvalidInput` if `offset .. offset + buf.len()` is outside the mapping.
    pub fn read_bytes(&self, offset: usize, buf: &mut [u8]) -> io::Result<()> {
        let src = self.checked(offset, buf.len())?;
        for (i, b) in buf.iter_mut().enumerate() {
            // SAFETY: src + i is inside the mapping (checked) and readable.
            *b = unsafe { ptr::read_volatile(src.add(i)) };
        }
        Ok(())
    }

    /// `msync(MS_SYNC)` - writes dirty pages back to the file and waits.
    ///
    /// # Errors
    /// Write-back errors of the file system.
    pub fn msync(&self) -> io::Result<()> {
        self.inner.msync(0, self.len(), MsyncFlags::SYNC)
    }

    /// `msync(flags)` over `offset .. offset + len`, widened to whole pages.
    ///
    /// # Errors
    /// `InvalidInput` for a range outside the mapping; write-back errors.
    pub fn msync_range(&self, offset: usize, len: usize, flags: MsyncFlags) -> io::Result<()> {
        self.inner.msync(offset, len, flags)
    }

    /// Turns this into an [`Mmap`], which hands out references.
    ///
    /// # Safety
    /// The contract of [`Mmap::create`]: from now on, for as long as the
    /// `Mmap` lives, nothing else changes or truncates the mapped memory.
    pub unsafe fn assume_exclusive(self) -> Mmap<T, P> {
        Mmap::from_inner(self.inner)
    }

    fn checked(&self, offset: usize, len: usize) -> io::Result<*mut u8> {
        match offset.checked_add(len) {
            Some(end) if end <= self.inner.len() => Ok(self.inner.ptr().wrapping_add(offset)),
            _ => Err(invalid(format!(
                "range {}..{}+{} is outside the mapping of {} bytes",
                offset,
                offset,
                len,
                self.inner.len()
            ))),
        }
    }
}

impl<T: Pod, P: Protection> SharedMmap<T, P> {
    /// A volatile copy of the first `T`.
    pub fn read(&self) -> T {
        // SAFETY: the mapping holds an aligned T (checked when made) and is
        // readable; any bytes are a valid T (Pod), even torn ones.
        unsafe { ptr::read_volatile(self.inner.ptr() as *const T) }
    }

    /// A volatile copy of the `index`th `T`, or `None` past the end.
    pub fn read_at(&self, index: usize) -> Option<T> {
        if index >= self.count() {
            return None;
        }
        // SAFETY: index < count, so the T lies inside the mapping; as `read`.
        Some(unsafe { ptr::read_volatile((self.inner.ptr() as *const T).add(index)) })
    }

    /// How many whole `T`s the mapping holds.
    pub fn count(&self) -> usize {
        self.inner.len() / size_of::<T>()
    }
}

impl<T: Pod, P: Writable> SharedMmap<T, P> {
    /// Stores `value` as the first `T`, with a volatile write.
    pub fn write(&mut self, value: T) {
        // SAFETY: the mapping holds an aligned, writable T; &mut self rules
        // out a racing access from this process.
        unsafe { ptr::write_volatile(self.inner.ptr() as *mut T, value) }
    }

    /// Stores `value` as the `index`th `T`.
    ///
    /// # Errors
    /// `InvalidInput` if `index` is past the end.
    pub fn write_at(&mut self, index: usize, value: T) -> io::Result<()> {
        if index >= self.count() {
            return Err(invalid(format!(
                "index {} is past the {} values in the mapping",
                index,
                self.count()
            )));
        }
        // SAFETY: index < count; as `write`.
        unsafe { ptr::write_volatile((self.inner.ptr() as *mut T).add(index), value) };
        Ok(())
    }
}

impl<T, P: Writable> SharedMmap<T, P> {
    /// Copies `data` to `offset` in the mapping, with volatile writes.
    ///
    /// # Errors
    /// `InvalidInput` if `offset .. offset + data.len()` is outside the mapping.
    pub fn write_bytes(&mut self, offset: usize, data: &[u8]) -> io::Result<()> {
        let dst = self.checked(offset, data.len())?;
        for (i, b) in data.iter().enumerate() {
            // SAFETY: dst + i is inside the mapping (checked) and writable.
            unsafe { ptr::write_volatile(dst.add(i), *b) };
        }
        Ok(())
    }
}

impl<T: AtomicPod, P: Writable> SharedMmap<T, P> {
    /// The mapped atomics, by shared reference.
    pub fn atomic(&self) -> &T {
        // SAFETY: large enough and aligned (checked when made), writable, and
        // T is atomics only, which other processes may update concurrently.
        unsafe { &*(self.inner.ptr() as *const T) }
    }
}

impl<T, P: Protection> fmt::Debug for SharedMmap<T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedMmap")
            .field("type", &std::any::type_name::<T>())
            .field("prot", &P::FLAGS)
            .field("ptr", &self.inner.ptr())
            .field("len", &self.inner.len())
            .finish()
    }
}
