//! `MapInner`: the one private owner of a mapping that every public mapping
//! type wraps (memmap2's `MmapInner` is the model).

use crate::raw::{self, invalid, MapFlags, MsyncFlags, ProtFlags};
use crate::sys::{self, c_void};
use std::fs::{File, Metadata};
use std::io;
use std::mem::ManuallyDrop;
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::{AsRawFd, BorrowedFd, FromRawFd};
use std::ptr::{self, NonNull};

/// An owned mapping.
///
/// Invariants (checked with `debug_assert!` where they are established):
/// - `len == 0`: nothing is mapped, `ptr` is dangling and never dereferenced,
///   `Drop` does nothing.
/// - `len > 0`: `base = ptr - lead` is page-aligned and is the start of a
///   mapping of `map_len()` bytes that this value alone owns and unmaps;
///   `ptr .. ptr + len` lies inside it.
/// - `unmap_align` is the page size, or the huge page size for `MAP_HUGETLB`
///   mappings, whose `munmap` length must be a multiple of it. `base`,
///   `lead` and every range handed to the kernel are multiples of it.
/// - `flags` are the `MAP_*` flags the mapping was made with, and `file`
///   says which file (if any) is mapped from which offset: [`remap`]
///   needs both to recreate or extend the mapping.
///
/// [`remap`]: MapInner::remap
//
// `pub` (not `pub(crate)`) only so that the sealed trait in `resize.rs` may
// name it; the module is private, so nothing outside the crate can.
#[derive(Debug)]
pub struct MapInner {
    ptr: NonNull<u8>,
    len: usize,
    lead: usize,
    unmap_align: usize,
    flags: MapFlags,
    file: Option<FileKey>,
}

/// Which file a mapping maps: the descriptor's device and inode (so a later
/// [`MapInner::remap`] can refuse a different file), and the page-aligned
/// file offset of the mapping's base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileKey {
    dev: u64,
    ino: u64,
    base_offset: u64,
}

impl FileKey {
    /// The identity of the file behind `meta`, mapped from `base_offset`.
    pub(crate) fn new(meta: &Metadata, base_offset: u64) -> Self {
        FileKey {
            dev: meta.dev(),
            ino: meta.ino(),
            base_offset,
        }
    }
}

impl MapInner {
    /// The whole of the file behind `fd`, mapped shared with `prot`; an
    /// empty file maps nothing (`mmap` of length 0 would be `EINVAL`).
    pub(crate) fn whole_file(fd: BorrowedFd<'_>, prot: ProtFlags) -> io::Result<Self> {
        let (len, meta) = file_window(fd, 0, None)?;
        if len == 0 {
            return Ok(MapInner::empty_file(&meta));
        }
        MapInner::map(
            0,
            len,
            prot,
            MapFlags::SHARED,
            Some((fd, &meta)),
            0,
            file_granule(&meta),
        )
    }

    /// Nothing mapped: the view of the empty file `meta` describes, which a
    /// later [`remap`](MapInner::remap) may map once it has grown.
    pub(crate) fn empty_file(meta: &Metadata) -> Self {
        MapInner {
            ptr: NonNull::dangling(),
            len: 0,
            lead: 0,
            unmap_align: raw::page_size(),
            flags: MapFlags::SHARED,
            file: Some(FileKey::new(meta, 0)),
        }
    }

    /// `mmap`s `len` bytes of `fd` from `offset` (any value: the mapping
    /// starts at the page below it and `ptr` points at `offset`).
    ///
    /// `hint` is only a hint, unless `flags` holds `MAP_FIXED_NOREPLACE`
    /// (Linux) or `MAP_FIXED | MAP_EXCL` (FreeBSD): then the mapping is made
    /// exactly at `hint` or not at all (`EEXIST`), and never replaces an
    /// existing one. Plain `MAP_FIXED` is never passed.
    ///
    /// `fd` comes with the file's [`Metadata`] (from [`file_window`]), which
    /// identifies the file for a later [`remap`](MapInner::remap).
    pub(crate) fn map(
        hint: usize,
        len: usize,
        prot: ProtFlags,
        flags: MapFlags,
        fd: Option<(BorrowedFd<'_>, &Metadata)>,
        offset: u64,
        unmap_align: usize,
    ) -> io::Result<Self> {
        let exact = is_exact(flags);
        debug_assert!(!flags.contains(MapFlags::FIXED) || exact);
        debug_assert!(unmap_align.is_power_of_two());
        if len == 0 {
            return Err(invalid("mmap: the length must not be zero"));
        }
        // A huge page file mapping must start at a huge page boundary of the
        // file too, so the lead is taken modulo the mapping's granule.
        let lead = (offset % unmap_align as u64) as usize;
        let map_len = lead
            .checked_add(len)
            .and_then(|l| round_up(l, unmap_align))
            .ok_or_else(|| invalid("mmap: the length overflows the address space"))?;
        let base_offset = offset - lead as u64;
        // Without MAP_FIXED the kernel picks free addresses, and
        // MAP_FIXED_NOREPLACE / MAP_FIXED|MAP_EXCL fail instead of replacing.
        // SAFETY: so no existing mapping or reference is affected;
        // base_offset is page-aligned as mmap requires.
        let base = unsafe {
            raw::mmap(
                hint as *mut c_void,
                map_len,
                prot,
                flags,
                fd.map(|(fd, _)| fd),
                base_offset,
            )?
        };
        if exact && base.as_ptr() as usize != hint {
            // Linux before 4.17 does not know MAP_FIXED_NOREPLACE and treats
            // it as a hint: the mapping landed elsewhere. Give it back and
            // report what a newer kernel would have said.
            // SAFETY: the kernel just created this mapping for us; nothing
            // else knows its address.
            let _ = unsafe { raw::munmap(base.as_ptr(), map_len) };
            return Err(io::Error::from_raw_os_error(sys::EEXIST));
        }
        // SAFETY: lead < unmap_align <= map_len, so base + lead is inside
        // the mapping.
        let ptr = unsafe { NonNull::new_unchecked((base.as_ptr() as *mut u8).add(lead)) };
        Ok(MapInner {
            ptr,
            len,
            lead,
            unmap_align,
            flags,
            file: fd.map(|(_, meta)| FileKey::new(meta, base_offset)),
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

    /// Whether the mapping is backed by a file (or segment, or memfd).
    pub(crate) fn is_file(&self) -> bool {
        self.file.is_some()
    }

    /// Whether `meta` describes the file this mapping maps.
    pub(crate) fn is_same_file(&self, meta: &Metadata) -> bool {
        self.file
            .map_or(false, |k| (k.dev, k.ino) == (meta.dev(), meta.ino()))
    }

    /// The file offset of the view's first byte, for a file mapping.
    pub(crate) fn view_offset(&self) -> Option<u64> {
        self.file.map(|k| k.base_offset + self.lead as u64)
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
    /// whole pages (huge pages for `MAP_HUGETLB`), as `msync`/`madvise`/
    /// `mlock` need. The result lies inside the mapping.
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
        let page = self.unmap_align;
        let start = (self.lead + offset) / page * page;
        // Rounding up stays inside the mapping: map_len is a multiple of the
        // granule.
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

    /// `madvise` over `offset .. offset + len` of the view, widened to whole
    /// pages. A view of length 0 (an empty file) has nothing to advise.
    ///
    /// # Safety
    /// As [`raw::madvise`]: advice that changes the contents (`DONTNEED`,
    /// `FREE`, `REMOVE`, `WIPEONFORK`) must not break a reference into the
    /// range or a promise made to the mapping's other users.
    pub(crate) unsafe fn madvise(
        &self,
        offset: usize,
        len: usize,
        advice: raw::Advice,
    ) -> io::Result<()> {
        if self.len == 0 {
            return Ok(());
        }
        let (addr, len) = self.page_range(offset, len)?;
        // SAFETY: the range is inside our mapping (page_range); the caller
        // vouches for what the advice does to its contents.
        unsafe { raw::madvise(addr, len, advice) }
    }

    /// `mlock` (`lock == true`) or `munlock` over `offset .. offset + len` of
    /// the view, widened to whole pages.
    pub(crate) fn lock(&self, offset: usize, len: usize, lock: bool) -> io::Result<()> {
        if self.len == 0 {
            return Ok(());
        }
        let (addr, len) = self.page_range(offset, len)?;
        if lock {
            // SAFETY: the range is inside our mapping; mlock only faults the
            // pages in and pins them, it never changes their contents.
            unsafe { raw::mlock(addr, len) }
        } else {
            // SAFETY: as above; munlock only unpins.
            unsafe { raw::munlock(addr, len) }
        }
    }

    /// `mlock2(MLOCK_ONFAULT)` over `offset .. offset + len` of the view,
    /// widened to whole pages (Linux).
    #[cfg(memseg_linux)]
    pub(crate) fn lock_on_fault(&self, offset: usize, len: usize) -> io::Result<()> {
        if self.len == 0 {
            return Ok(());
        }
        let (addr, len) = self.page_range(offset, len)?;
        // SAFETY: the range is inside our mapping; mlock2 only pins pages
        // (as they are faulted in), it never changes their contents.
        unsafe { raw::mlock2(addr, len, raw::MlockFlags::ONFAULT) }
    }

    /// `mprotect` over the whole mapping.
    ///
    /// On failure the kernel may have changed part of the range (`ENOMEM`
    /// halfway through), so `old` is put back on a best-effort basis; if even
    /// that fails, some pages may allow less than `old` and touching them in
    /// a way they no longer allow raises SIGSEGV (a crash, never a silent
    /// write: every protection memseg offers includes `PROT_READ`).
    ///
    /// Takes `&mut self`: the caller's type changes with the protection, so
    /// no reference made under the old one may outlive the call.
    pub(crate) fn protect(&mut self, prot: ProtFlags, old: ProtFlags) -> io::Result<()> {
        if self.len == 0 {
            return Ok(());
        }
        let (base, len) = (self.base() as *mut c_void, self.map_len());
        // SAFETY: we own the whole mapping and &mut self rules out references
        // into it; every protection memseg uses includes PROT_READ.
        match unsafe { raw::mprotect(base, len, prot) } {
            Ok(()) => Ok(()),
            Err(e) => {
                // SAFETY: as above, restoring the protection the caller's
                // type still describes.
                let _ = unsafe { raw::mprotect(base, len, old) };
                Err(e)
            }
        }
    }

    /// Resizes the view to `new_len` bytes, keeping its start in the file
    /// (or its contents, for anonymous memory) - `mremap(MREMAP_MAYMOVE)` on
    /// Linux, a new mapping plus `munmap` of the old one elsewhere.
    ///
    /// `fd` must be given for a file mapping and be that file (same device
    /// and inode, else `InvalidInput`); the new view must lie inside the
    /// file. Anonymous mappings take `None`.
    ///
    /// Private mappings (file or anonymous) keep their contents: where the
    /// kernel cannot move the pages (`MAP_SHARED | MAP_ANONYMOUS` growing on
    /// Linux, whose backing object has a fixed size, or any platform without
    /// `mremap`), the old view is copied into the new mapping. Shared file
    /// mappings need no copy: both views show the file.
    ///
    /// On error the mapping is unchanged.
    /// After an anonymous mapping grew in place (same pages, or `mremap`):
    /// the bytes from the old view's end to the end of the pages it already
    /// had may still hold what was written before an earlier shrink, since
    /// the kernel zero-fills only the pages it adds. They are zeroed so that
    /// "new bytes are zero" holds. A read-only or executable mapping gets
    /// `PROT_WRITE` for the moment of the store. For a shared anonymous
    /// mapping, children forked while it was that long see the zeros too.
    fn zero_reexposed(
        &mut self,
        old_len: usize,
        old_map_len: usize,
        prot: ProtFlags,
    ) -> io::Result<()> {
        let end = self.len.min(old_map_len - self.lead);
        if self.file.is_some() || end <= old_len {
            return Ok(());
        }
        let writable = prot.contains(ProtFlags::WRITE);
        if !writable {
            self.protect(prot | ProtFlags::WRITE, prot)?;
        }
        // SAFETY: old_len < end <= old_map_len - lead, so the bytes lie in
        // pages this mapping had before the call and still has; they are
        // writable now; &mut self rules out references into them.
        unsafe { ptr::write_bytes(self.ptr().add(old_len), 0, end - old_len) };
        if !writable {
            self.protect(prot, prot | ProtFlags::WRITE)?;
        }
        Ok(())
    }

    pub(crate) fn remap(
        &mut self,
        new_len: usize,
        prot: ProtFlags,
        fd: Option<BorrowedFd<'_>>,
    ) -> io::Result<()> {
        if new_len == 0 {
            return Err(invalid("remap: the new length must not be zero"));
        }
        let meta = match (self.file, fd) {
            (Some(key), Some(fd)) => {
                let view_offset = key.base_offset + self.lead as u64;
                let (_, meta) = file_window(fd, view_offset, Some(new_len))?;
                if FileKey::new(&meta, key.base_offset) != key {
                    return Err(invalid(
                        "remap: the descriptor is not the file this mapping was made from",
                    ));
                }
                Some(meta)
            }
            (Some(_), None) => {
                return Err(invalid("remap: a file mapping needs its file's descriptor"))
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "remap: an anonymous mapping has no file descriptor",
                ))
            }
            (None, None) => None,
        };
        if self.len == 0 {
            // Nothing mapped yet (an empty file): map afresh.
            let fd = fd.and_then(|fd| meta.as_ref().map(|m| (fd, m)));
            let offset = self.file.map_or(0, |k| k.base_offset);
            let granule = meta.as_ref().map_or(self.unmap_align, file_granule);
            *self = MapInner::map(
                0,
                new_len,
                prot,
                remap_flags(self.flags),
                fd,
                offset,
                granule,
            )?;
            return Ok(());
        }
        let old_map_len = self.map_len();
        let new_map_len = self
            .lead
            .checked_add(new_len)
            .and_then(|l| round_up(l, self.unmap_align))
            .ok_or_else(|| invalid("remap: the length overflows the address space"))?;
        if new_map_len == old_map_len {
            let old_len = std::mem::replace(&mut self.len, new_len);
            return self.zero_reexposed(old_len, old_map_len, prot);
        }
        let shared_anonymous = self.file.is_none() && !self.flags.contains(MapFlags::PRIVATE);
        #[cfg(memseg_linux)]
        if !(shared_anonymous && new_map_len > old_map_len) {
            // MAYMOVE without FIXED never replaces other mappings; a file
            // mapping's new range was checked to lie inside the file above.
            // SAFETY: we own base..base + old_map_len and &mut self rules out
            // references into it.
            let moved = unsafe {
                raw::mremap(
                    self.base() as *mut c_void,
                    old_map_len,
                    new_map_len,
                    raw::MremapFlags::MAYMOVE,
                    None,
                )
            };
            match moved {
                Ok(base) => {
                    // SAFETY: lead < unmap_align <= new_map_len.
                    self.ptr = unsafe {
                        NonNull::new_unchecked((base.as_ptr() as *mut u8).add(self.lead))
                    };
                    let old_len = std::mem::replace(&mut self.len, new_len);
                    return self.zero_reexposed(old_len, old_map_len, prot);
                }
                // mremap moves a single VMA. Advice, locking or a protection
                // change on part of the mapping splits it into several, and
                // the kernel then answers EFAULT (the mapping is unchanged):
                // map anew below instead.
                Err(e) if e.raw_os_error() == Some(crate::sys::EFAULT) => {}
                Err(e) => return Err(e),
            }
        }
        // A new mapping of the same kind, then the old one's contents (where
        // the new mapping does not show them by itself), then unmap the old.
        let fd = fd.and_then(|fd| meta.as_ref().map(|m| (fd, m)));
        let offset = self.file.map_or(0, |k| k.base_offset + self.lead as u64);
        let copy = shared_anonymous || self.flags.contains(MapFlags::PRIVATE);
        // Copying needs a writable destination; a shared file mapping is not
        // copied, so it keeps exactly the protection its descriptor allowed.
        let map_prot = if copy { prot | ProtFlags::WRITE } else { prot };
        let mut new = MapInner::map(
            0,
            new_len,
            map_prot,
            remap_flags(self.flags),
            fd,
            offset,
            self.unmap_align,
        )?;
        if copy {
            let n = self.len.min(new_len);
            // SAFETY: both views are at least n bytes long, readable, the new
            // one writable (mapped with PROT_WRITE added above), and they do
            // not overlap (the new mapping is fresh).
            unsafe { ptr::copy_nonoverlapping(self.ptr(), new.ptr(), n) };
        }
        if map_prot != prot {
            new.protect(prot, map_prot)?;
        }
        // Dropping the old value unmaps it.
        *self = new;
        Ok(())
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

/// Whether `flags` ask for the mapping at exactly the hint address, without
/// replacing anything.
fn is_exact(flags: MapFlags) -> bool {
    #[cfg(memseg_linux)]
    let exact = flags.contains(MapFlags::FIXED_NOREPLACE);
    #[cfg(memseg_freebsd)]
    let exact = flags.contains(MapFlags::FIXED.union(MapFlags::EXCL));
    #[cfg(not(any(memseg_linux, memseg_freebsd)))]
    let exact = {
        let _ = flags;
        false
    };
    exact
}

/// The flags for a replacement mapping made by [`MapInner::remap`]: the
/// same, except that it goes wherever the kernel likes.
fn remap_flags(flags: MapFlags) -> MapFlags {
    #[cfg(memseg_linux)]
    let flags = flags.difference(MapFlags::FIXED_NOREPLACE);
    #[cfg(memseg_freebsd)]
    let flags = flags.difference(MapFlags::FIXED.union(MapFlags::EXCL));
    flags
}

/// `n` rounded up to a multiple of `align` (a power of two), or `None` on
/// overflow.
pub(crate) fn round_up(n: usize, align: usize) -> Option<usize> {
    Some(n.checked_add(align - 1)? & !(align - 1))
}

/// The granule a mapping of the file `meta` describes must be made and
/// unmapped in: the page size, or on Linux the huge page size of a
/// hugetlbfs file (a memfd made with `MFD_HUGETLB`), which reports it as its
/// block size. (Other file systems report a block size of at most a page,
/// or a larger power of two whose multiples are still valid offsets.)
pub(crate) fn file_granule(meta: &Metadata) -> usize {
    let page = raw::page_size();
    #[cfg(memseg_linux)]
    {
        let blksize = usize::try_from(meta.blksize()).unwrap_or(0);
        if meta.is_file() && blksize > page && blksize.is_power_of_two() {
            return blksize;
        }
    }
    let _ = meta;
    page
}

/// `fstat` through std, on a descriptor we only borrow.
pub(crate) fn metadata(fd: BorrowedFd<'_>) -> io::Result<Metadata> {
    // SAFETY: the File is never dropped (ManuallyDrop), so it never closes
    // the descriptor it borrows; fd is open for the whole call.
    let file = ManuallyDrop::new(unsafe { File::from_raw_fd(fd.as_raw_fd()) });
    file.metadata()
}

/// The number of bytes to map from `offset`: `len`, or the rest of the file;
/// and the file's metadata (which identifies it for a later remap).
///
/// For a regular file (and a shared-memory object, which is one on Linux)
/// the range must lie inside the file: a mapping past the end is a SIGBUS
/// waiting to happen, so memseg never creates one. For other descriptors
/// (devices) the size is unknown and `len` is required.
///
/// The `fstat` is made even when the caller thinks it knows the length (a
/// [`crate::Shm`] caches one): another process may have resized the object
/// since, and only the kernel's answer keeps the promise above. It costs one
/// `statx` (about 0.35 us; `benches/RESULTS.md`, `shm/lifecycle_4k`).
pub(crate) fn file_window(
    fd: BorrowedFd<'_>,
    offset: u64,
    len: Option<usize>,
) -> io::Result<(usize, Metadata)> {
    let meta = metadata(fd)?;
    if !meta.is_file() {
        let len = len.ok_or_else(|| {
            invalid("mmap: a length is required when the descriptor is not a regular file")
        })?;
        return Ok((len, meta));
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
        Some(len) => Ok((len, meta)),
        None => usize::try_from(rest).map(|len| (len, meta)).map_err(|_| {
            invalid(format!(
                "mmap: the rest of the file ({} bytes) does not fit in the address space",
                rest
            ))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mapping made with a granule larger than a page (as huge page
    /// mappings are) is mapped and unmapped in whole granules: nothing is
    /// left behind, which is the memmap2 leak this guards against.
    #[test]
    fn granule_rounds_the_map_and_unmap_length() {
        let granule = 16 * raw::page_size();
        let inner = MapInner::map(
            0,
            100,
            ProtFlags::READ,
            MapFlags::SHARED | MapFlags::ANONYMOUS,
            None,
            0,
            granule,
        )
        .unwrap();
        assert_eq!(inner.map_len(), granule);
        assert_eq!(inner.page_range(99, 1).unwrap().1, granule);
        let start = inner.base() as usize;
        let line = |start: usize| {
            std::fs::read_to_string("/proc/self/maps")
                .unwrap()
                .lines()
                .find(|l| l.starts_with(&format!("{:x}-", start)))
                .map(String::from)
        };
        if cfg!(target_os = "linux") {
            let l = line(start).expect("mapped");
            let range = l.split_whitespace().next().unwrap();
            let end = usize::from_str_radix(range.split_once('-').unwrap().1, 16).unwrap();
            assert_eq!(end - start, granule);
            drop(inner);
            assert!(line(start).is_none());
        }
    }
}
