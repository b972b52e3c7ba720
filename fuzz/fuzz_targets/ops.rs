//! Random sequences of map / write / msync / advise / unchecked advise /
//! protect / grow and shrink (remap) / unmap on anonymous memory, checked
//! after every step against a byte-for-byte model of each mapping.
//!
//! Properties: safe advice never changes contents; `DontNeed`/`Remove`
//! zero exactly the pages the model says (private and shared anonymous
//! memory differ, as documented); `Free` leaves each page either as it was
//! or zeroed; a protection change keeps contents and returns the mapping on
//! failure; `remap` keeps the old bytes and zero-fills the new ones (the
//! shared anonymous case included, where the kernel cannot grow in place);
//! ranges outside a view are refused with `InvalidInput` before any call.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use memseg::{Advice, Mmap, MsyncFlags, ReadOnly, ReadWrite, UncheckedAdvice};
use std::io::ErrorKind;

/// `MEMSEG_FUZZ_TRACE=1` prints every step (for reproducing a crash).
fn trace(what: std::fmt::Arguments<'_>) {
    static FLAG: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *FLAG.get_or_init(|| std::env::var_os("MEMSEG_FUZZ_TRACE").is_some()) {
        eprintln!("{}", what);
    }
}

const MAX_MAPS: usize = 6;
const MAX_LEN: usize = 1 << 16;

fn page() -> usize {
    memseg::raw::page_size()
}

enum Map {
    Rw(Mmap<u8, ReadWrite>),
    Ro(Mmap<u8, ReadOnly>),
}

struct Slot {
    map: Map,
    private: bool,
    model: Vec<u8>,
    /// Advice that sets a VMA flag was given to part of the mapping, so the
    /// kernel split it into several VMAs, which `mremap` refuses (`EFAULT`).
    split: bool,
    /// Pages given `Free` and not written since: the kernel may drop them
    /// (they then read as zeros) at any moment.
    freed: std::collections::BTreeSet<usize>,
}

impl Slot {
    fn bytes(&self) -> &[u8] {
        match &self.map {
            Map::Rw(m) => m.as_slice(),
            Map::Ro(m) => m.as_slice(),
        }
    }

    fn len(&self) -> usize {
        self.model.len()
    }

    fn check(&mut self, step: &str) {
        assert_eq!(self.bytes().len(), self.model.len(), "{}: length", step);
        // A freed page the kernel has dropped reads as zeros: learn it.
        let p = page();
        let dropped: Vec<usize> = self
            .freed
            .iter()
            .copied()
            .filter(|&pg| {
                let (a, b) = ((pg * p).min(self.len()), ((pg + 1) * p).min(self.len()));
                self.bytes()[a..b].iter().all(|&x| x == 0)
            })
            .collect();
        for pg in dropped {
            let (a, b) = ((pg * p).min(self.len()), ((pg + 1) * p).min(self.len()));
            self.model[a..b].fill(0);
        }
        if self.bytes() != &self.model[..] {
            let at = self.bytes().iter().zip(&self.model).position(|(a, b)| a != b).unwrap();
            panic!(
                "{}: contents differ at byte {} (memory {}, model {}), len {}, private {}",
                step, at, self.bytes()[at], self.model[at], self.len(), self.private
            );
        }
    }

    /// The model's bytes of the pages that `off .. off + n` touches, as
    /// `page_range` widens it, clipped to the view.
    fn pages(&self, off: usize, n: usize) -> std::ops::Range<usize> {
        let p = page();
        let start = off / p * p;
        let stop = ((off + n + p - 1) / p * p).min(self.len());
        start.min(stop)..stop
    }
}

/// An offset and a length, mostly inside the view, sometimes not.
fn range(u: &mut Unstructured<'_>, len: usize) -> Result<(usize, usize, bool)> {
    let (off, n) = match u.int_in_range(0..=7u8)? {
        0 => (u.arbitrary()?, u.arbitrary()?),
        1 => (len, u.int_in_range(0..=2usize)?),
        2 => (u.int_in_range(0..=len)?, usize::MAX - u.int_in_range(0..=2usize)?),
        _ => {
            let off = u.int_in_range(0..=len)?;
            (off, u.int_in_range(0..=len - off)?)
        }
    };
    let inside = off.checked_add(n).map_or(false, |e| e <= len);
    Ok((off, n, inside))
}

fn expect_invalid(step: &str, r: std::io::Result<()>) {
    let e = r.expect_err(step);
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{}: {:?}", step, e);
    assert_eq!(e.raw_os_error(), None, "{}: {:?}", step, e);
}

fn safe_advice(u: &mut Unstructured<'_>) -> Result<Advice> {
    let all = [
        Advice::Normal,
        Advice::Random,
        Advice::Sequential,
        Advice::WillNeed,
        Advice::HugePage,
        Advice::NoHugePage,
        Advice::DontFork,
        Advice::DoFork,
        Advice::Mergeable,
        Advice::Unmergeable,
        Advice::DontDump,
        Advice::DoDump,
        Advice::KeepOnFork,
        Advice::Cold,
        Advice::PageOut,
        Advice::PopulateRead,
        Advice::PopulateWrite,
    ];
    Ok(all[u.choose_index(all.len())?])
}

fn step(u: &mut Unstructured<'_>, slots: &mut Vec<Slot>) -> Result<()> {
    let op = u.int_in_range(0..=8u8)?;
    if op == 0 || slots.is_empty() {
        if slots.len() < MAX_MAPS {
            let len = u.int_in_range(1..=MAX_LEN)?;
            let private = u.arbitrary()?;
            let map = Mmap::<u8>::options()
                .len(len)
                .private(private)
                .map_anonymous(ReadWrite)
                .expect("map_anonymous");
            let mut slot = Slot { map: Map::Rw(map), private, model: vec![0; len], split: false, freed: Default::default() };
            slot.check("map");
            slots.push(slot);
        }
        return Ok(());
    }
    let i = u.choose_index(slots.len())?;
    let slot = &mut slots[i];
    let len = slot.len();
    trace(format_args!("slot {} (len {}, private {}, split {}): op {}", i, len, slot.private, slot.split, op));
    match op {
        // Write some bytes (only writable mappings have a &mut [u8]).
        1 => {
            // Learn about dropped pages before a write brings them back.
            slot.check("before write");
            if let Map::Rw(m) = &mut slot.map {
                let off = u.int_in_range(0..=len - 1)?;
                let n = u.int_in_range(1..=(len - off).min(512))?;
                let byte: u8 = u.arbitrary()?;
                let seed = byte | 1;
                for k in 0..n {
                    let v = seed.wrapping_mul((k as u8).wrapping_add(1));
                    m.as_mut_slice()[off + k] = v;
                    slot.model[off + k] = v;
                }
                // A written page is dirty again: the kernel keeps it.
                for pg in off / page()..=(off + n - 1) / page() {
                    slot.freed.remove(&pg);
                }
            }
            slot.check("write");
        }
        // msync over a range.
        2 => {
            let (off, n, inside) = range(u, len)?;
            let flags = [MsyncFlags::SYNC, MsyncFlags::ASYNC, MsyncFlags::SYNC | MsyncFlags::INVALIDATE];
            let flags = flags[u.choose_index(flags.len())?];
            let r = match &slot.map {
                Map::Rw(m) => m.msync_range(off, n, flags),
                Map::Ro(m) => m.msync_range(off, n, flags),
            };
            if inside {
                r.unwrap_or_else(|e| panic!("msync_range({}, {}) of {}: {}", off, n, len, e));
            } else {
                expect_invalid("msync_range outside", r);
            }
            slot.check("msync");
        }
        // Safe advice: may fail (unsupported here, read-only populate), but
        // never changes a byte.
        3 => {
            let advice = safe_advice(u)?;
            let (off, n, inside) = range(u, len)?;
            let r = match &slot.map {
                Map::Rw(m) => m.advise_range(advice, off, n),
                Map::Ro(m) => m.advise_range(advice, off, n),
            };
            trace(format_args!("slot {} advise {:?} ({}, {}) of {}: {:?}", i, advice, off, n, len, r));
            // Random/Sequential/Normal set or clear VM_*_READ too.
            let sets_a_flag = !matches!(
                advice,
                Advice::WillNeed
                    | Advice::Cold
                    | Advice::PageOut
                    | Advice::PopulateRead
                    | Advice::PopulateWrite
            );
            if r.is_ok() && sets_a_flag && slot.pages(off, n) != (0..len) {
                slot.split = true;
            }
            match r {
                Ok(()) => assert!(inside, "advise_range({}, {}) of {} accepted", off, n, len),
                Err(e) if !inside => {
                    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{:?}", e);
                    assert_eq!(e.raw_os_error(), None, "{:?}", e);
                }
                Err(e) => assert!(e.raw_os_error().is_some(), "{:?} inside: {:?}", advice, e),
            }
            slot.check(&format!("advise {:?}", advice));
        }
        // Advice that may change the contents.
        4 => {
            let kinds = [
                UncheckedAdvice::DontNeed,
                UncheckedAdvice::Free,
                UncheckedAdvice::Remove,
                UncheckedAdvice::WipeOnFork,
            ];
            let advice = kinds[u.choose_index(kinds.len())?];
            let (off, n, inside) = range(u, len)?;
            let r = match &slot.map {
                // SAFETY: no reference into the mapping is live during the
                // call, and any byte is a valid u8.
                Map::Rw(m) => unsafe { m.unchecked_advise_range(advice, off, n) },
                // SAFETY: as above.
                Map::Ro(m) => unsafe { m.unchecked_advise_range(advice, off, n) },
            };
            if !inside {
                expect_invalid("unchecked_advise_range outside", r);
                slot.check("unchecked advise outside");
                return Ok(());
            }
            let pages = slot.pages(off, n);
            let writable = matches!(slot.map, Map::Rw(_));
            if pages.is_empty() {
                // A zero-length range at a page boundary widens to nothing:
                // madvise(addr, 0) succeeds without looking at the advice.
                assert!(r.is_ok(), "empty unchecked {:?}: {:?}", advice, r);
                slot.check("empty unchecked advise");
                return Ok(());
            }
            match (advice, slot.private, r) {
                // Private anonymous pages are dropped and read as zeros;
                // shared ones live in the segment and keep their contents.
                (UncheckedAdvice::DontNeed, true, Ok(())) => slot.model[pages].fill(0),
                (UncheckedAdvice::DontNeed, false, Ok(())) => {}
                // Free: each page is either untouched or zeroed, the kernel's
                // choice; the model learns which.
                (UncheckedAdvice::Free, true, Ok(())) => {
                    let p = page();
                    let mut at = pages.start;
                    while at < pages.end {
                        let end = (at + p).min(pages.end);
                        let now = slot.bytes()[at..end].to_vec();
                        if now.iter().any(|&b| b != 0) {
                            assert_eq!(now, &slot.model[at..end], "Free changed a page without zeroing it");
                        }
                        slot.model[at..end].copy_from_slice(&now);
                        slot.freed.insert(at / p);
                        at = end;
                    }
                }
                (UncheckedAdvice::Free, false, Err(e)) => assert_eq!(e.raw_os_error(), Some(memseg::sys::EINVAL)),
                // Remove punches a hole in the shared memory behind the
                // mapping. Linux asks whether the mapping *may* be written
                // (it always may: anonymous memory has no read-only
                // descriptor), not its current protection, so read-only
                // views punch holes too; private mappings refuse it.
                (UncheckedAdvice::Remove, false, Ok(())) => slot.model[pages].fill(0),
                (UncheckedAdvice::Remove, true, Err(e)) => assert_eq!(e.raw_os_error(), Some(memseg::sys::EINVAL)),
                (UncheckedAdvice::WipeOnFork, true, Ok(())) => {
                    if slot.pages(off, n) != (0..len) {
                        slot.split = true;
                    }
                }
                (UncheckedAdvice::WipeOnFork, false, Err(e)) => assert_eq!(e.raw_os_error(), Some(memseg::sys::EINVAL)),
                (advice, private, r) => panic!(
                    "unchecked {:?} on private={} writable={} ({}, {}) of {}: {:?}",
                    advice, private, writable, off, n, len, r
                ),
            }
            slot.check(&format!("unchecked advise {:?}", advice));
        }
        // Protection changes: anonymous memory may always change both ways.
        5 => {
            let old = std::mem::replace(&mut slot.map, Map::Ro(tiny()));
            slot.map = match old {
                Map::Rw(m) => Map::Ro(m.into_read_only().expect("into_read_only")),
                Map::Ro(m) => Map::Rw(m.into_read_write().expect("into_read_write")),
            };
            slot.check("protect");
        }
        // Grow or shrink.
        6 | 7 => {
            let new_len = match u.int_in_range(0..=3u8)? {
                0 => u.int_in_range(1..=MAX_LEN)?,
                1 => len + u.int_in_range(1..=page())?,
                2 => len.saturating_sub(u.int_in_range(0..=page())?).max(1),
                _ => (len + page() - 1) / page() * page(),
            };
            let r = match &mut slot.map {
                Map::Rw(m) => m.remap(new_len),
                Map::Ro(m) => m.remap(new_len),
            };
            // Also after sub-range advice split the mapping into several
            // VMAs (mremap alone would answer EFAULT there).
            if let Err(e) = r {
                panic!("remap {} -> {} (private {}, split {}): {}", len, new_len, slot.private, slot.split, e);
            }
            // New bytes are zero (the documented contract), including those
            // an earlier shrink left inside the old last page.
            slot.model.resize(new_len, 0);
            slot.check("remap");
        }
        // Unmap.
        _ => {
            let mut gone = slots.swap_remove(i);
            gone.check("before unmap");
        }
    }
    Ok(())
}

/// A placeholder for `mem::replace` while a mapping changes type.
fn tiny() -> Mmap<u8, ReadOnly> {
    Mmap::<u8>::options().len(1).private(true).map_anonymous(ReadOnly).unwrap()
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let mut slots = Vec::new();
    for _ in 0..64 {
        if u.is_empty() || step(&mut u, &mut slots).is_err() {
            break;
        }
    }
    for slot in &mut slots {
        slot.check("end");
    }
});
