//! `HugePageSize`: which explicit huge page pool (`MAP_HUGETLB`,
//! `MFD_HUGETLB`) a mapping or memfd draws from (Linux).

use crate::raw::{invalid, MapFlags, MemfdFlags};
use std::fmt;
use std::io;

/// The size of explicit huge pages (`MAP_HUGETLB` / `MFD_HUGETLB`, Linux):
/// the system default, or a power of two the kernel has a pool for.
///
/// Explicit huge pages come from a pool the administrator fills
/// (`/proc/sys/vm/nr_hugepages`, or
/// `/sys/kernel/mm/hugepages/hugepages-<size>kB/nr_hugepages`); it is empty
/// by default, and then mapping fails with `ENOMEM`. A size without a pool
/// (not supported by the CPU, or not configured) fails with `EINVAL`.
/// [`free_pages`](Self::free_pages) tells in advance. Transparent huge
/// pages need no pool: see [`Advice::HugePage`](crate::Advice::HugePage).
///
/// # Examples
/// ```
/// use memseg::{HugePageSize, Mmap, ReadWrite};
/// let size = HugePageSize::DEFAULT.bytes()?; // e.g. 2 MiB on x86_64
/// let map = Mmap::<u8>::options()
///     .len(size)
///     .private(true)
///     .huge_pages(HugePageSize::DEFAULT)
///     .map_anonymous(ReadWrite);
/// match map {
///     Ok(map) => assert_eq!(map.len(), size),
///     // The pool is empty (the default): a clear error, not a crash.
///     Err(e) => assert_eq!(e.raw_os_error(), Some(memseg::sys::ENOMEM)),
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
/// - [`mmap(2)`](https://man7.org/linux/man-pages/man2/mmap.2.html), `MAP_HUGETLB`
/// - [The kernel's hugetlbpage.rst](https://www.kernel.org/doc/html/latest/admin-guide/mm/hugetlbpage.html)
#[doc(alias = "MAP_HUGETLB")]
#[doc(alias = "MFD_HUGETLB")]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HugePageSize {
    /// log2 of the size in bytes, or 0 for the system default.
    log2: u8,
}

impl HugePageSize {
    /// The system default size (`Hugepagesize:` in `/proc/meminfo`; 2 MiB on
    /// x86_64): `MAP_HUGETLB` with no size bits.
    pub const DEFAULT: HugePageSize = HugePageSize { log2: 0 };
    /// 64 KiB (`MAP_HUGE_64KB`: arm64 with 4 KiB base pages, powerpc).
    pub const SIZE_64KB: HugePageSize = HugePageSize { log2: 16 };
    /// 2 MiB (`MAP_HUGE_2MB`: x86_64, arm64, riscv64).
    pub const SIZE_2MB: HugePageSize = HugePageSize { log2: 21 };
    /// 16 MiB (`MAP_HUGE_16MB`: powerpc).
    pub const SIZE_16MB: HugePageSize = HugePageSize { log2: 24 };
    /// 32 MiB (`MAP_HUGE_32MB`: arm64 with 4 KiB base pages).
    pub const SIZE_32MB: HugePageSize = HugePageSize { log2: 25 };
    /// 1 GiB (`MAP_HUGE_1GB`: x86_64 with `pdpe1gb`, arm64, riscv64).
    pub const SIZE_1GB: HugePageSize = HugePageSize { log2: 30 };

    /// `1 << log2` bytes, or `None` unless `log2` is in `12..=63` (what
    /// the 6-bit `MAP_HUGE_MASK` field can carry, at least a base page).
    pub const fn from_log2(log2: u32) -> Option<HugePageSize> {
        if log2 < 12 || log2 > 63 {
            None
        } else {
            Some(HugePageSize { log2: log2 as u8 })
        }
    }

    /// `bytes` as a size, or `None` unless it is a power of two from 4 KiB up.
    pub fn from_bytes(bytes: usize) -> Option<HugePageSize> {
        if !bytes.is_power_of_two() {
            return None;
        }
        HugePageSize::from_log2(bytes.trailing_zeros())
    }

    /// log2 of the size, or `None` for [`DEFAULT`](Self::DEFAULT).
    pub fn log2(self) -> Option<u32> {
        if self.log2 == 0 {
            None
        } else {
            Some(u32::from(self.log2))
        }
    }

    /// The size in bytes; for [`DEFAULT`](Self::DEFAULT) the `Hugepagesize:`
    /// line of `/proc/meminfo`.
    ///
    /// # Errors
    /// Reading `/proc/meminfo` (`ENOENT` without procfs), or `InvalidData`
    /// if it has no `Hugepagesize:` line (a kernel built without hugetlbfs).
    pub fn bytes(self) -> io::Result<usize> {
        match self.log2() {
            Some(log2) => 1usize
                .checked_shl(log2)
                .ok_or_else(|| invalid("huge page size does not fit the address space")),
            None => default_size(),
        }
    }

    /// The `MAP_*` flags: `MAP_HUGETLB | log2 << MAP_HUGE_SHIFT`.
    pub fn map_flags(self) -> MapFlags {
        // log2 <= 63 fits MAP_HUGE_MASK, so this is always Some.
        MapFlags::huge_pages(u32::from(self.log2)).unwrap_or(MapFlags::HUGETLB)
    }

    /// The `MFD_*` flags: `MFD_HUGETLB | log2 << MFD_HUGE_SHIFT`.
    pub fn memfd_flags(self) -> MemfdFlags {
        MemfdFlags::huge_pages(u32::from(self.log2)).unwrap_or(MemfdFlags::HUGETLB)
    }

    /// How many pages of this size are free in the pool right now
    /// (`/sys/kernel/mm/hugepages/hugepages-<size>kB/free_hugepages`). 0 is
    /// the default on most systems, and mapping then fails with `ENOMEM`.
    ///
    /// # Errors
    /// `ENOENT` (`NotFound`) when the kernel has no pool of this size.
    ///
    /// # Examples
    /// ```
    /// let free = memseg::HugePageSize::DEFAULT.free_pages().unwrap_or(0);
    /// println!("{} free default-size huge pages", free);
    /// ```
    pub fn free_pages(self) -> io::Result<u64> {
        let path = format!(
            "/sys/kernel/mm/hugepages/hugepages-{}kB/free_hugepages",
            self.bytes()? / 1024
        );
        let text = std::fs::read_to_string(path)?;
        text.trim().parse().map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidData, "free_hugepages is not a number")
        })
    }
}

impl fmt::Debug for HugePageSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.log2() {
            None => f.write_str("HugePageSize::DEFAULT"),
            Some(l) if l >= 30 => write!(f, "HugePageSize({} GiB)", 1u64 << (l - 30)),
            Some(l) if l >= 20 => write!(f, "HugePageSize({} MiB)", 1u64 << (l - 20)),
            Some(l) => write!(f, "HugePageSize({} KiB)", 1u64 << (l - 10)),
        }
    }
}

/// The `Hugepagesize:` line of `/proc/meminfo`, in bytes.
fn default_size() -> io::Result<usize> {
    let meminfo = std::fs::read_to_string("/proc/meminfo")?;
    parse_meminfo(&meminfo).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "/proc/meminfo has no Hugepagesize line: the kernel has no hugetlbfs",
        )
    })
}

/// Finds `Hugepagesize:    2048 kB` and returns it in bytes.
fn parse_meminfo(meminfo: &str) -> Option<usize> {
    let line = meminfo.lines().find(|l| l.starts_with("Hugepagesize:"))?;
    let mut words = line["Hugepagesize:".len()..].split_whitespace();
    let n: usize = words.next()?.parse().ok()?;
    let unit = match words.next() {
        Some("kB") => 1024,
        Some("MB") => 1024 * 1024,
        None => 1,
        _ => return None,
    };
    n.checked_mul(unit).filter(|b| b.is_power_of_two())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_line_is_parsed() {
        let text = "MemTotal: 1 kB\nHugepagesize:       2048 kB\nHugetlb: 0 kB\n";
        assert_eq!(parse_meminfo(text), Some(2 << 20));
        assert_eq!(parse_meminfo("MemTotal: 1 kB\n"), None);
        assert_eq!(parse_meminfo("Hugepagesize: 3 kB\n"), None);
    }

    #[test]
    fn sizes_and_flags() {
        assert_eq!(
            HugePageSize::from_bytes(2 << 20),
            Some(HugePageSize::SIZE_2MB)
        );
        assert_eq!(HugePageSize::from_bytes(3 << 20), None);
        assert_eq!(HugePageSize::from_log2(11), None);
        assert_eq!(HugePageSize::SIZE_1GB.bytes().unwrap(), 1 << 30);
        assert_eq!(
            HugePageSize::SIZE_2MB.map_flags().bits(),
            crate::sys::MAP_HUGETLB | (21 << crate::sys::MAP_HUGE_SHIFT)
        );
        assert_eq!(HugePageSize::DEFAULT.map_flags(), MapFlags::HUGETLB);
        assert_eq!(
            format!("{:?}", HugePageSize::SIZE_2MB),
            "HugePageSize(2 MiB)"
        );
    }
}
