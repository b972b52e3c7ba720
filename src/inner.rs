//! `MapInner`: the one private owner of a mapping that every public mapping
//! type wraps (memmap2's `MmapInner` is the model).

use crate::raw::{self, invalid, MapFlags, MsyncFlags, ProtFlags};
use crate::sys::c_void;
use std::fs::{File, Metadata};
use std::io;
use std::mem::ManuallyDrop;
use std::os::unix::io::{AsRawFd, BorrowedFd, FromRawFd};
use std::ptr::NonNull;

/// An owned mapping.
///
/// Invariants (checked with `debug_assert!` where they are established):
/// - `len == 0`: nothing is mapped, `ptr` is dangling and never dereferenced,
///   `Drop` does nothing.
/// - `len > 0`: `base = ptr - lead` is page-aligned and is the start of a
///   mapping of `map_len()` bytes that this value alone owns and unmaps;
///   `ptr .. ptr + len` lies inside it.
/// - `unmap_align` is the page size, or the huge page size for `MAP_HUGETLB`
///   mappings, whose `munmap` length must be a multiple of it.
#[derive(Debug)]
pub(crate) struct MapInner {
    ptr: NonNull<u8>,
    len: usize,
    lead: usize,
    unmap_align: usize,
}

impl MapInner {
    /// Nothing mapped: the view of an empty file.
    pub(crate) fn empty() -> Self {
        MapInner {
            ptr: NonNull::dangling(),
            len: 0,
            lead: 0,
            unmap_align: raw::page_size(),
        }
    }

    /// `mmap`s `len` bytes of `fd` from `offset` (any value: the mapping
    /// starts at the page below it and `ptr` points at `offset`).
    ///
    /// `hint` is only a hint: `flags` must not contain `MAP_FIXED` (the
    /// callers never pass it), so no existing mapping can be replaced.
    pub(crate) fn map(
        hint: usize,
        len: usize,
        prot: ProtFlags,
        flags: MapFlags,
        fd: Option<BorrowedFd<'_>>,
        offset: u64,
        unmap_align: usize,
    ) -> io::Result<Self> {
        debug_assert!(!flags.contains(MapFlags::FIXED));
        debug_assert!(unmap_align.is_power_of_two());
        if len == 0 {
            return Err(invalid("mmap: the length must not be zero"));
        }
        let page = raw::page_size();
        let lead = (offset % page as u64) as usize;
        let map_len = lead
            .checked_add(len)
            .and_then(|l| round_up(l, unmap_align))
            .ok_or_else(|| invalid("mmap: the length overflows the address space"))?;
        // SAFETY: without MAP_FIXED the kernel picks free addresses, so no
        // existing mapping or reference is affected; offset - lead is
        // page-aligned as mmap requires.
        let base = unsafe {
            raw::mmap(
                hint as *mut c_void,
                map_len,
                prot,
                flags,
                fd,
                offset - lead as u64,
            )?
        };
        // SAFETY: lead < page <= map_len, so base + lead is inside the mapping.
        let ptr = unsafe { NonNull::new_unchecked((base.as_ptr() as *mut u8).add(lead)) };
        Ok(MapInner {
            ptr,
            len,
            lead,
            unmap_align,
        })
    }

    /// The first byte of the view.
    pub(crate) fn ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// The length of the view in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The page-aligned start of the whole mapping.
    fn base(&self) -> *mut u8 {
        // lead bytes before ptr belong to the same mapping (invariant).
        self.ptr.as_ptr().wrapping_sub(self.lead)
    }

    /// The length of the whole mapping, as passed to `munmap`.
    fn map_len(&self) -> usize {
        // Cannot overflow: the same sum was checked when the mapping was made.
        round_up(self.lead + self.len, self.unmap_align).unwrap_or(usize::MAX)
    }

    /// Checks `offset .. offset + len` against the view and widens it to
    /// whole pages, as `msync`/`madvise`/`mlock` need. The result lies inside
    /// the mapping.
    pub(crate) fn page_range(&self, offset: usize, len: usize) -> io::Result<(*mut c_void, usize)> {
        let end = offset
            .checked_add(len)
            .filter(|&end| end <= self.len)
            .ok_or_else(|| {
                invalid(format!(
                    "range {}..{}+{} is outside the mapping of {} bytes",
                    offset, offset, len, self.len
                ))
            })?;
        let page = raw::page_size();
        let start = (self.lead + offset) / page * page;
        // Rounding up stays inside the mapping: map_len is a page multiple.
        let stop = round_up(self.lead + end, page).unwrap_or(usize::MAX);
        Ok((self.base().wrapping_add(start) as *mut c_void, stop - start))
    }

    /// `msync` over `offset .. offset + len` of the view.
    pub(crate) fn msync(&self, offset: usize, len: usize, flags: MsyncFlags) -> io::Result<()> {
        if self.len == 0 {
            return Ok(());
        }
        let (addr, len) = self.page_range(offset, len)?;
        // SAFETY: the range is inside our mapping (page_range); MS_INVALIDATE
        // can only refresh pages from the file, which the owner's contract
        // (the unsafe constructor, or atomics-only access) already covers.
        unsafe { raw::msync(addr, len, flags) }
    }
}

impl Drop for MapInner {
    fn drop(&mut self) {
        if self.len == 0 {
            return;
        }
        // SAFETY: we own the whole mapping (invariant) and are being dropped,
        // so no reference into it outlives this call.
        let result = unsafe { raw::munmap(self.base() as *mut c_void, self.map_len()) };
        // munmap of a range we mapped can only fail on a bug in our own
        // arithmetic; there is nothing a caller could do about it in Drop, so
        // it is checked in debug builds and otherwise ignored (like memmap2).
        debug_assert!(result.is_ok(), "munmap failed: {:?}", result);
    }
}

/// `n` rounded up to a multiple of `align` (a power of two), or `None` on
/// overflow.
pub(crate) fn round_up(n: usize, align: usize) -> Option<usize> {
    Some(n.checked_add(align - 1)? & !(align - 1))
}

/// `fstat` through std, on a descriptor we only borrow.
pub(crate) fn metadata(fd: BorrowedFd<'_>) -> io::Result<Metadata> {
    // SAFETY: the File is never dropped (ManuallyDrop), so it never closes
    // the descriptor it borrows; fd is open for the whole call.
    let file = ManuallyDrop::new(unsafe { File::from_raw_fd(fd.as_raw_fd()) });
    file.metadata()
}

/// The number of bytes to map from `offset`: `len`, or the rest of the file.
///
/// For a regular file (and a shared-memory object, which is one on Linux)
/// the range must lie inside the file: a mapping past the end is a SIGBUS
/// waiting to happen, so memseg never creates one. For other descriptors
/// (devices) the size is unknown and `len` is required.
pub(crate) fn file_window(
    fd: BorrowedFd<'_>,
    offset: u64,
    len: Option<usize>,
) -> io::Result<usize> {
    let meta = metadata(fd)?;
    if !meta.is_file() {
        return len.ok_or_else(|| {
            invalid("mmap: a length is required when the descriptor is not a regular file")
        });
    }
    let size = meta.len();
    let rest = size.checked_sub(offset).ok_or_else(|| {
        invalid(format!(
            "mmap: offset {} is past the end of the file ({} bytes)",
            offset, size
        ))
    })?;
    match len {
        Some(len) if len as u64 > rest => Err(invalid(format!(
            "mmap: offset {} + length {} is past the end of the file ({} bytes); \
             touching those pages would raise SIGBUS",
            offset, len, size
        ))),
        Some(len) => Ok(len),
        None => usize::try_from(rest).map_err(|_| {
            invalid(format!(
                "mmap: the rest of the file ({} bytes) does not fit in the address space",
                rest
            ))
        }),
    }
}
