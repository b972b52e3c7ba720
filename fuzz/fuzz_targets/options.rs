//! `MmapOptions` and range arithmetic: for any offset, length, type and
//! file size, memseg maps exactly when an independent model says the range
//! lies inside the file (or is a valid anonymous request), the view shows
//! the file's bytes, and `msync_range` / `advise_range` / `read_bytes` /
//! `write_bytes` accept exactly the ranges inside the view, overflow
//! included.
//!
//! The file is a memfd, so nothing touches the disk.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use memseg::{Advice, Memfd, Mmap, MmapOptions, MsyncFlags, ReadOnly, ReadWrite};
use std::io::{self, ErrorKind};
use std::mem::{align_of, size_of};
use std::os::unix::fs::FileExt;

fn page() -> usize {
    memseg::raw::page_size()
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(7).wrapping_add(1)).collect()
}

/// A number near the interesting boundaries: 0, the page size, the file
/// size, and the ends of the integer range.
fn near(u: &mut Unstructured<'_>, anchors: &[u64]) -> Result<u64> {
    Ok(match u.int_in_range(0..=3u8)? {
        0 => u.arbitrary::<u64>()?,
        1 => u.int_in_range(0..=4 * page() as u64 + 64)?,
        _ => {
            let anchor = anchors[u.choose_index(anchors.len())?];
            let delta = u.int_in_range(0..=16u64)?;
            if u.arbitrary::<bool>()? {
                anchor.wrapping_add(delta)
            } else {
                anchor.wrapping_sub(delta)
            }
        }
    })
}

fn expect_invalid<T: std::fmt::Debug>(what: &str, r: io::Result<T>) {
    let e = r.expect_err(what);
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{}: {:?}", what, e);
    assert_eq!(e.raw_os_error(), None, "{}: {:?}", what, e);
}

/// Range checks on a live view of `len` bytes.
fn ranges<P: memseg::Protection>(u: &mut Unstructured<'_>, map: &Mmap<u8, P>) -> Result<()> {
    let len = map.len() as u64;
    for _ in 0..u.int_in_range(0..=4u8)? {
        let anchors = [0, len, page() as u64, u64::MAX, usize::MAX as u64];
        let off = near(u, &anchors)? as usize;
        let n = near(u, &anchors)? as usize;
        let inside = off.checked_add(n).map_or(false, |end| end <= map.len());
        let flags = [MsyncFlags::SYNC, MsyncFlags::ASYNC, MsyncFlags::SYNC | MsyncFlags::INVALIDATE];
        let flags = flags[u.choose_index(flags.len())?];
        let r = map.msync_range(off, n, flags);
        if inside {
            r.unwrap_or_else(|e| panic!("msync_range({}, {}) inside {}: {}", off, n, len, e));
        } else {
            expect_invalid("msync_range outside", r);
        }
        let advice = [Advice::Normal, Advice::Random, Advice::Sequential, Advice::WillNeed];
        let advice = advice[u.choose_index(advice.len())?];
        let r = map.advise_range(advice, off, n);
        if inside {
            r.unwrap_or_else(|e| panic!("advise_range({}, {}) inside {}: {}", off, n, len, e));
        } else {
            expect_invalid("advise_range outside", r);
        }
    }
    Ok(())
}

fn check_layout<T>(len: usize, offset: u64) -> bool {
    size_of::<T>() > 0 && align_of::<T>() <= page() && offset % align_of::<T>() as u64 == 0 && len >= size_of::<T>()
}

/// Maps with `options` as `T` and checks the result against the model.
fn typed<T>(options: &MmapOptions<T>, memfd: &Memfd, size: u64, offset: u64, len: Option<usize>, anon: bool) {
    let window = if anon {
        // No offset, a length, and one whose page-rounded size fits.
        if offset != 0 {
            None
        } else {
            len.filter(|&l| l > 0 && l.checked_add(page() - 1).is_some())
        }
    } else {
        size.checked_sub(offset).and_then(|rest| match len {
            None => usize::try_from(rest).ok(),
            Some(l) if (l as u64) <= rest => Some(l),
            Some(_) => None,
        })
    };
    let want = window.filter(|&w| w > 0 && check_layout::<T>(w, offset));
    let result = if anon {
        options.map_anonymous(ReadWrite).map(|m| m.len())
    } else {
        // SAFETY: the memfd is private to this process and unchanged while mapped.
        unsafe { options.map(memfd, ReadOnly) }.map(|m| m.len())
    };
    match (want, result) {
        (Some(w), Ok(got)) => assert_eq!(got, w),
        (None, Err(e)) => {
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{:?}", e);
            assert_eq!(e.raw_os_error(), None, "{:?}", e);
        }
        // A valid anonymous request larger than the address space or memory.
        (Some(w), Err(e)) if anon && w > 1 << 30 => {
            assert_eq!(e.raw_os_error(), Some(memseg::sys::ENOMEM), "{:?}", e)
        }
        (want, got) => panic!(
            "{} size {} offset {} len {:?} {}: model {:?}, memseg {:?}",
            std::any::type_name::<T>(),
            size,
            offset,
            len,
            if anon { "anonymous" } else { "file" },
            want,
            got
        ),
    }
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let p = page() as u64;
    let size = match u.int_in_range(0..=2u8)? {
        0 => u.int_in_range(0..=4 * p + 64)?,
        1 => [0, 1, p - 1, p, p + 1, 2 * p, 3 * p + 5][u.choose_index(7)?],
        _ => u.int_in_range(0..=64u64)?,
    };
    let memfd = Memfd::new("memseg-fuzz-options").unwrap();
    memfd.set_len(size).unwrap();
    let data = pattern(size as usize);
    memfd.file().write_all_at(&data, 0).unwrap();

    let anchors = [0, size, p, p - 1, u64::MAX, i64::MAX as u64];
    let offset = near(u, &anchors)?;
    let len = if u.arbitrary()? {
        let l = near(u, &[0, size, size.wrapping_sub(offset), p, usize::MAX as u64])?;
        Some(if u.arbitrary()? { l as usize } else { (l % (8 * p + 1)) as usize })
    } else {
        None
    };
    let anon = u.int_in_range(0..=3u8)? == 0;
    let private = u.arbitrary()?;

    macro_rules! options {
        ($t:ty) => {{
            let mut o = Mmap::<$t>::options();
            o.offset(offset).private(private);
            if let Some(l) = len {
                o.len(l);
            }
            o
        }};
    }
    match u.int_in_range(0..=4u8)? {
        0 => typed(&options!(u8), &memfd, size, offset, len, anon),
        1 => typed(&options!(u64), &memfd, size, offset, len, anon),
        2 => typed(&options!([u8; 100]), &memfd, size, offset, len, anon),
        3 => typed(&options!([u64; 3]), &memfd, size, offset, len, anon),
        _ => typed(&options!(u16), &memfd, size, offset, len, anon),
    }

    // A byte view: contents and range arithmetic.
    let byte = options!(u8);
    if !anon {
        // SAFETY: as above.
        if let Ok(map) = unsafe { byte.map(&memfd, ReadOnly) } {
            let start = offset as usize;
            assert_eq!(map.as_slice(), &data[start..start + map.len()]);
            ranges(u, &map)?;
        }
        if let Ok(mut shared) = byte.map_shared(&memfd, ReadWrite) {
            let off = near(u, &[0, shared.len() as u64])? as usize;
            let n = u.int_in_range(0..=64usize)?;
            let inside = off.checked_add(n).map_or(false, |e| e <= shared.len());
            let mut buf = vec![0u8; n];
            match shared.read_bytes(off, &mut buf) {
                Ok(()) => {
                    assert!(inside);
                    let at = offset as usize + off;
                    assert_eq!(buf, &data[at..at + n]);
                }
                Err(e) => {
                    assert!(!inside, "read_bytes({}, {}) inside: {}", off, n, e);
                    assert_eq!(e.kind(), ErrorKind::InvalidInput);
                }
            }
            // Writing back the same bytes keeps the file unchanged.
            let r = shared.write_bytes(off, &buf);
            assert_eq!(r.is_ok(), inside, "write_bytes({}, {})", off, n);
        }
    } else if offset == 0 && len.map_or(false, |l| l > 0 && l <= 1 << 20) {
        // Small enough to read every byte of (larger ones were checked by
        // length above, never touched).
        let map = byte.map_anonymous(ReadWrite).expect("a small anonymous mapping");
        assert!(map.as_slice().iter().all(|&b| b == 0));
        ranges(u, &map)?;
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
