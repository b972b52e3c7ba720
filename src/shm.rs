//! POSIX shared-memory objects: validated names ([`ShmName`]), an
//! `OpenOptions`-style builder ([`ShmOptions`]), an owning handle ([`Shm`])
//! and [`shm_unlink`].
//!
//! # Names
//!
//! `"name"` and `"/name"` address the same object: memseg adds the leading
//! `/` before calling C (as Python's `multiprocessing.shared_memory` does).
//! A name is refused with [`io::ErrorKind::InvalidInput`], before any system
//! call, when it is empty (`""` or `"/"`), has a `/` after the first
//! character, contains a NUL byte, is `.` or `..`, or is longer than
//! [`ShmName::MAX_LEN`]. These are the rules of musl, plus the portable
//! POSIX form; glibc would otherwise happily open `/dev/shm/..` (that is,
//! `/dev`) read-only.
//!
//! # Who removes the name
//!
//! The creator ([`Shm::create_new`], [`Shm::create_unique`]) removes the name
//! when its [`Shm`] is dropped, unless told to keep it ([`Shm::keep`],
//! [`Shm::set_unlink_on_drop`], [`Shm::into_file`]). A handle from
//! [`Shm::open`] never removes the name unless asked to. Removing a name only
//! stops new `shm_open` calls from finding it: descriptors and mappings that
//! already exist stay valid until they are closed.
//!
//! # Space
//!
//! On a tmpfs (`/dev/shm`), `ftruncate` only sets a size; a full file system
//! shows up later as a SIGBUS at the first touch of a page. memseg reserves
//! the pages when it creates or grows an object (`posix_fallocate` on Linux
//! and FreeBSD), so "out of space" is an `ENOSPC` error from
//! [`Shm::create_new`] or [`Shm::set_len`] instead.
//!
//! # Platform notes
//!
//! - Linux: objects live in `/dev/shm`; memseg passes `O_NOFOLLOW` and
//!   `O_CLOEXEC` (glibc adds them too) so a symbolic link planted at the name
//!   fails with `ELOOP` instead of being followed.
//! - macOS: a name is at most 31 bytes including the `/`; an object can be
//!   sized only once (a second `ftruncate` fails with `EINVAL`), `O_TRUNC` is
//!   refused with `EINVAL`, `fstat` reports the size rounded up to a page,
//!   and nothing is reserved up front.
//! - FreeBSD: where `posix_fallocate` does not support shared-memory objects
//!   (before FreeBSD 14), memseg falls back to `ftruncate`.

use crate::raw::{self, OFlags};
#[cfg(memseg_freebsd)]
use crate::sys;
use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::ffi::{CStr, CString};
use std::fmt;
use std::fs::{File, Metadata};
use std::hash::{BuildHasher, Hash, Hasher};
use std::io;
use std::os::unix::io::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The mode memseg creates objects with unless told otherwise: owner read
/// and write only (the C++ library this crate replaces used 0666).
const DEFAULT_MODE: u32 = 0o600;

/// The largest length `off_t` can express; larger lengths are refused before
/// any system call.
const MAX_OBJECT_LEN: u64 = i64::MAX as u64;

/// Hex digits of randomness in a [`Shm::create_unique`] name.
const UNIQUE_DIGITS: usize = 16;

/// How many names [`Shm::create_unique`] tries before giving up with the
/// last `EEXIST`.
const UNIQUE_TRIES: usize = 100;

/// `shm_open(3)` name - a shared-memory object name that has been checked and
/// normalised to `/name`, so it can be reused without checking it again.
///
/// Every function that takes a name accepts either a `&str` (checked on each
/// call) or a `ShmName` (see [`ToShmName`]).
///
/// # Examples
/// ```
/// use memseg::ShmName;
/// let name = ShmName::new("memseg-doc")?;
/// assert_eq!(name.as_str(), "/memseg-doc");
/// assert_eq!(name, ShmName::new("/memseg-doc")?);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
/// - [`shm_open(3)`](https://man7.org/linux/man-pages/man3/shm_open.3.html), "name"
/// - [`shm_overview(7)`](https://man7.org/linux/man-pages/man7/shm_overview.7.html)
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShmName {
    // Both spellings are kept so that neither accessor needs a fallible
    // conversion: `text` is "/name", `c_text` the same bytes plus NUL.
    text: Box<str>,
    c_text: CString,
}

impl ShmName {
    /// The longest name this platform accepts, in bytes, counting the
    /// leading `/`: 256 on Linux (255 after the slash, the `NAME_MAX` of
    /// `/dev/shm`; glibc before 2.34 stops at 253), 1023 on FreeBSD
    /// (`MAXPATHLEN` less the NUL), 31 on macOS (`PSHMNAMLEN`; macOS kernels
    /// before 10.15 stop at 30).
    #[cfg(memseg_apple)]
    pub const MAX_LEN: usize = 31;
    /// The longest name this platform accepts, in bytes, counting the
    /// leading `/`: 256 on Linux (255 after the slash, the `NAME_MAX` of
    /// `/dev/shm`; glibc before 2.34 stops at 253), 1023 on FreeBSD
    /// (`MAXPATHLEN` less the NUL), 31 on macOS (`PSHMNAMLEN`; macOS kernels
    /// before 10.15 stop at 30).
    #[cfg(memseg_freebsd)]
    pub const MAX_LEN: usize = 1023;
    /// The longest name this platform accepts, in bytes, counting the
    /// leading `/`: 256 on Linux (255 after the slash, the `NAME_MAX` of
    /// `/dev/shm`; glibc before 2.34 stops at 253), 1023 on FreeBSD
    /// (`MAXPATHLEN` less the NUL), 31 on macOS (`PSHMNAMLEN`; macOS kernels
    /// before 10.15 stop at 30).
    #[cfg(not(any(memseg_apple, memseg_freebsd)))]
    pub const MAX_LEN: usize = 256;

    /// `shm_open(3)` name rules - checks `name` and normalises it to `/name`
    /// without making any system call.
    ///
    /// # Errors
    /// [`io::ErrorKind::InvalidInput`], with a message naming the rule, if
    /// `name` is empty (`""` or `"/"`), has a `/` after the first character,
    /// contains a NUL byte, is `.` or `..` (with or without the slash), or is
    /// longer than [`ShmName::MAX_LEN`] once the `/` is added.
    ///
    /// # Examples
    /// ```
    /// use memseg::ShmName;
    /// assert_eq!(ShmName::new("data")?.as_str(), "/data");
    /// let err = ShmName::new("a/b").unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`shm_open(3)`](https://man7.org/linux/man-pages/man3/shm_open.3.html)
    pub fn new(name: &str) -> io::Result<ShmName> {
        let rest = name.strip_prefix('/').unwrap_or(name);
        if rest.is_empty() {
            return Err(raw::invalid(
                "shm name must not be empty (\"\" and \"/\" name nothing)",
            ));
        }
        check_component(rest, "shm name")?;
        if rest == "." || rest == ".." {
            return Err(raw::invalid("shm name must not be \".\" or \"..\""));
        }
        if 1 + rest.len() > Self::MAX_LEN {
            return Err(raw::invalid(format!(
                "shm name too long: at most {} bytes including the leading '/' on this platform",
                Self::MAX_LEN
            )));
        }
        let text = format!("/{}", rest);
        // The NUL check above makes this infallible; map the error anyway
        // rather than panic.
        let c_text = CString::new(text.clone())
            .map_err(|_| raw::invalid("shm name must not contain a NUL byte"))?;
        Ok(ShmName {
            text: text.into_boxed_str(),
            c_text,
        })
    }

    /// The normalised name, with its leading `/`, as passed to C.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(memseg::ShmName::new("x")?.as_str(), "/x");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`shm_overview(7)`](https://man7.org/linux/man-pages/man7/shm_overview.7.html)
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The normalised name as a C string, for [`crate::raw::shm_open`] and
    /// [`crate::raw::shm_unlink`].
    ///
    /// # Examples
    /// ```
    /// let name = memseg::ShmName::new("x")?;
    /// assert_eq!(name.as_c_str().to_bytes(), b"/x");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`shm_open(3)`](https://man7.org/linux/man-pages/man3/shm_open.3.html)
    pub fn as_c_str(&self) -> &CStr {
        &self.c_text
    }
}

/// Refuses a `/` or a NUL byte in `part` (a name without its leading slash,
/// or a prefix), naming `what` in the message.
fn check_component(part: &str, what: &str) -> io::Result<()> {
    if part.contains('/') {
        return Err(raw::invalid(format!(
            "{} must not contain '/' after the first character",
            what
        )));
    }
    if part.contains('\0') {
        return Err(raw::invalid(format!(
            "{} must not contain a NUL byte",
            what
        )));
    }
    Ok(())
}

impl fmt::Debug for ShmName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ShmName").field(&self.as_str()).finish()
    }
}

impl fmt::Display for ShmName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ShmName {
    type Err = io::Error;

    fn from_str(name: &str) -> io::Result<ShmName> {
        ShmName::new(name)
    }
}

mod sealed {
    /// Keeps [`super::ToShmName`] implementable only here, so the way names
    /// are checked can change without breaking anyone.
    pub trait Sealed {}
    impl Sealed for str {}
    impl Sealed for String {}
    impl Sealed for super::ShmName {}
    impl<T: Sealed + ?Sized> Sealed for &T {}
}

/// Something that names a shared-memory object: a `&str` or `String`
/// (checked by [`ShmName::new`] on every call) or a [`ShmName`] (already
/// checked), like [`std::net::ToSocketAddrs`] for addresses.
///
/// # Examples
/// ```
/// use memseg::{Shm, ShmName};
/// let name = ShmName::new(&format!("memseg-doc-to-name-{}", std::process::id()))?;
/// let shm = Shm::create_new(&name, 0)?; // no re-check
/// let again = Shm::open(name.as_str())?; // checked again
/// assert_eq!(shm.name(), again.name());
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait ToShmName: sealed::Sealed {
    /// Checks and normalises the name, or borrows it if it is a [`ShmName`].
    ///
    /// # Errors
    /// As for [`ShmName::new`].
    fn to_shm_name(&self) -> io::Result<Cow<'_, ShmName>>;
}

impl ToShmName for str {
    fn to_shm_name(&self) -> io::Result<Cow<'_, ShmName>> {
        ShmName::new(self).map(Cow::Owned)
    }
}

impl ToShmName for String {
    fn to_shm_name(&self) -> io::Result<Cow<'_, ShmName>> {
        ShmName::new(self).map(Cow::Owned)
    }
}

impl ToShmName for ShmName {
    fn to_shm_name(&self) -> io::Result<Cow<'_, ShmName>> {
        Ok(Cow::Borrowed(self))
    }
}

impl<T: ToShmName + ?Sized> ToShmName for &T {
    fn to_shm_name(&self) -> io::Result<Cow<'_, ShmName>> {
        (**self).to_shm_name()
    }
}

/// `shm_open(3)` options - chooses how a shared-memory object is opened or
/// created, like [`std::fs::OpenOptions`] for files.
///
/// Access is read-only (`O_RDONLY`) or read-write (`O_RDWR`): `shm_open` has
/// no write-only mode, so `write(true)` without `read(true)` is refused with
/// `InvalidInput` rather than silently granting read access. As in std,
/// `create`, `create_new` and `truncate` need write access, and
/// `create_new` makes `create` and `truncate` irrelevant. Every open also
/// passes `O_CLOEXEC`, and `O_NOFOLLOW` on Linux.
///
/// Unlike [`Shm::create_new`], creating through `ShmOptions` reserves no
/// space: size the returned [`File`] with [`File::set_len`] (`ftruncate`).
///
/// # Examples
/// ```
/// use memseg::ShmOptions;
/// let name = format!("memseg-doc-options-{}", std::process::id());
/// let file = ShmOptions::new().read(true).write(true).create_new(true).mode(0o600).open(&name)?;
/// file.set_len(4096)?;
/// memseg::shm_unlink(&name)?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
/// - [`shm_open(3)`](https://man7.org/linux/man-pages/man3/shm_open.3.html)
/// - [`open(2)`](https://man7.org/linux/man-pages/man2/open.2.html) for the `O_*` flags
#[derive(Clone, Debug)]
pub struct ShmOptions {
    read: bool,
    write: bool,
    create: bool,
    create_new: bool,
    truncate: bool,
    mode: u32,
}

impl Default for ShmOptions {
    fn default() -> Self {
        ShmOptions::new()
    }
}

impl ShmOptions {
    /// `shm_open(3)` options - every option off, mode 0o600.
    ///
    /// # Examples
    /// ```
    /// let options = memseg::ShmOptions::new();
    /// # let _ = options;
    /// ```
    ///
    /// # References
    /// - [`shm_open(3)`](https://man7.org/linux/man-pages/man3/shm_open.3.html)
    pub fn new() -> Self {
        ShmOptions {
            read: false,
            write: false,
            create: false,
            create_new: false,
            truncate: false,
            mode: DEFAULT_MODE,
        }
    }

    /// `O_RDONLY` - asks for read access (required: `shm_open` has no
    /// write-only mode).
    ///
    /// # Examples
    /// ```
    /// let mut options = memseg::ShmOptions::new();
    /// options.read(true);
    /// ```
    ///
    /// # References
    /// - [`open(2)`](https://man7.org/linux/man-pages/man2/open.2.html), "O_RDONLY"
    pub fn read(&mut self, read: bool) -> &mut Self {
        self.read = read;
        self
    }

    /// `O_RDWR` - asks for write access as well as read access.
    ///
    /// # Examples
    /// ```
    /// let mut options = memseg::ShmOptions::new();
    /// options.read(true).write(true);
    /// ```
    ///
    /// # References
    /// - [`open(2)`](https://man7.org/linux/man-pages/man2/open.2.html), "O_RDWR"
    pub fn write(&mut self, write: bool) -> &mut Self {
        self.write = write;
        self
    }

    /// `O_CREAT` - creates the object if it does not exist (needs write).
    ///
    /// # Examples
    /// ```
    /// let mut options = memseg::ShmOptions::new();
    /// options.read(true).write(true).create(true);
    /// ```
    ///
    /// # References
    /// - [`open(2)`](https://man7.org/linux/man-pages/man2/open.2.html), "O_CREAT"
    pub fn create(&mut self, create: bool) -> &mut Self {
        self.create = create;
        self
    }

    /// `O_CREAT | O_EXCL` - creates the object, failing with `EEXIST` if the
    /// name is taken (needs write; `create` and `truncate` are then ignored).
    ///
    /// # Examples
    /// ```
    /// let mut options = memseg::ShmOptions::new();
    /// options.read(true).write(true).create_new(true);
    /// ```
    ///
    /// # References
    /// - [`open(2)`](https://man7.org/linux/man-pages/man2/open.2.html), "O_EXCL"
    pub fn create_new(&mut self, create_new: bool) -> &mut Self {
        self.create_new = create_new;
        self
    }

    /// `O_TRUNC` - empties an existing object (needs write; macOS refuses
    /// `O_TRUNC` with `EINVAL`).
    ///
    /// # Examples
    /// ```
    /// let mut options = memseg::ShmOptions::new();
    /// options.read(true).write(true).truncate(true);
    /// ```
    ///
    /// # References
    /// - [`open(2)`](https://man7.org/linux/man-pages/man2/open.2.html), "O_TRUNC"
    pub fn truncate(&mut self, truncate: bool) -> &mut Self {
        self.truncate = truncate;
        self
    }

    /// `mode` - the permission bits a created object gets, less the umask
    /// (default 0o600; at most 0o7777, checked by [`ShmOptions::open`]).
    ///
    /// # Examples
    /// ```
    /// let mut options = memseg::ShmOptions::new();
    /// options.mode(0o640);
    /// ```
    ///
    /// # References
    /// - [`shm_open(3)`](https://man7.org/linux/man-pages/man3/shm_open.3.html), "mode"
    /// - [`umask(2)`](https://man7.org/linux/man-pages/man2/umask.2.html)
    pub fn mode(&mut self, mode: u32) -> &mut Self {
        self.mode = mode;
        self
    }

    /// `shm_open(3)` - opens (or creates) the object named `name` with these
    /// options and checks that it is a shared-memory object.
    ///
    /// After opening, memseg `fstat`s the descriptor and refuses anything
    /// that is not a regular file (a directory or device node planted under
    /// `/dev/shm`, say).
    ///
    /// # Errors
    /// - `InvalidInput` before any system call: an invalid name (see
    ///   [`ShmName::new`]), no read access, write without read, `create`,
    ///   `create_new` or `truncate` without write, a mode above 0o7777.
    /// - The errno of `shm_open`: `ENOENT` (missing, without `create`),
    ///   `EEXIST` (`create_new` and the name is taken), `EACCES`, `ELOOP`
    ///   (Linux: a symbolic link at the name), `ENAMETOOLONG`, `EMFILE`.
    /// - `InvalidData` if the name refers to something other than a regular
    ///   file (shared-memory objects are regular files on Linux and FreeBSD,
    ///   and have no file type at all on macOS).
    ///
    /// # Examples
    /// ```
    /// use memseg::{Shm, ShmOptions};
    /// let name = format!("memseg-doc-options-open-{}", std::process::id());
    /// let shm = Shm::create_new(&name, 1 << 16)?;
    /// let read_only = ShmOptions::new().read(true).open(&name)?;
    /// assert_eq!(read_only.metadata()?.len(), 1 << 16);
    /// # drop(shm);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`shm_open(3)`](https://man7.org/linux/man-pages/man3/shm_open.3.html)
    /// - [`fstat(2)`](https://man7.org/linux/man-pages/man2/fstat.2.html)
    #[doc(alias = "shm_open")]
    pub fn open<N: ToShmName>(&self, name: N) -> io::Result<File> {
        let flags = self.flags()?;
        let name = name.to_shm_name()?;
        open_checked(&name, flags, self.mode).map(|(file, _)| file)
    }

    /// The `O_*` flags these options stand for, or the rule they break.
    fn flags(&self) -> io::Result<OFlags> {
        let mut flags = match (self.read, self.write) {
            (true, true) => OFlags::RDWR,
            (true, false) => OFlags::RDONLY,
            (false, true) => {
                return Err(raw::invalid(
                    "ShmOptions: write access requires read(true) too (shm_open has no write-only mode)",
                ))
            }
            (false, false) => {
                return Err(raw::invalid("ShmOptions: read(true) is required (shm_open needs an access mode)"))
            }
        };
        if self.create_new {
            if !self.write {
                return Err(raw::invalid("ShmOptions: create_new requires write(true)"));
            }
            flags |= OFlags::CREAT | OFlags::EXCL;
        } else {
            if self.create {
                if !self.write {
                    return Err(raw::invalid("ShmOptions: create requires write(true)"));
                }
                flags |= OFlags::CREAT;
            }
            if self.truncate {
                if !self.write {
                    return Err(raw::invalid("ShmOptions: truncate requires write(true)"));
                }
                flags |= OFlags::TRUNC;
            }
        }
        if self.mode > 0o7777 {
            return Err(raw::invalid(
                "ShmOptions: mode must be permission bits only (at most 0o7777)",
            ));
        }
        Ok(flags | always_flags())
    }
}

/// The flags memseg adds to every `shm_open`: `O_CLOEXEC` so descriptors do
/// not leak into `exec`ed programs, and on Linux `O_NOFOLLOW` so a symbolic
/// link planted in `/dev/shm` is refused (`ELOOP`) rather than followed
/// (glibc adds both as well; saying so here keeps the guarantee ours), and
/// `O_NONBLOCK` so that a FIFO planted at the name makes `open` return at
/// once (and be refused as not a shared-memory object by the `fstat` check)
/// instead of blocking until some writer appears. musl adds `O_NONBLOCK`
/// itself; glibc does not. On a tmpfs file the flag changes nothing.
fn always_flags() -> OFlags {
    let flags = OFlags::CLOEXEC;
    #[cfg(memseg_linux)]
    let flags = flags | OFlags::NOFOLLOW | OFlags::NONBLOCK;
    flags
}

/// `shm_open` + `fstat`: opens `name` and refuses anything that is not a
/// shared-memory object. The descriptor is closed on every error path.
fn open_checked(name: &ShmName, flags: OFlags, mode: u32) -> io::Result<(File, Metadata)> {
    let file = File::from(raw::shm_open(name.as_c_str(), flags, mode)?);
    let meta = file.metadata()?;
    if !is_shm_object(&meta) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "shm_open: the name refers to something other than a shared-memory object (not a regular file)",
        ));
    }
    Ok((file, meta))
}

/// Whether `meta` describes a shared-memory object: a regular file on Linux
/// (tmpfs) and FreeBSD; on macOS `fstat` reports only the permission bits
/// (no file type at all), so "no known type" is accepted there too.
fn is_shm_object(meta: &Metadata) -> bool {
    let ty = meta.file_type();
    #[cfg(memseg_apple)]
    {
        use std::os::unix::fs::FileTypeExt;
        let typed = ty.is_dir()
            || ty.is_symlink()
            || ty.is_fifo()
            || ty.is_socket()
            || ty.is_block_device()
            || ty.is_char_device();
        ty.is_file() || !typed
    }
    #[cfg(not(memseg_apple))]
    {
        ty.is_file()
    }
}

/// Refuses a length `off_t` cannot hold, before any system call.
fn check_len(len: u64) -> io::Result<()> {
    if len > MAX_OBJECT_LEN {
        return Err(raw::invalid(
            "shm length must not exceed i64::MAX (the C off_t)",
        ));
    }
    Ok(())
}

/// Grows `file` to `len` bytes (`len > 0`, larger than its current size)
/// and reserves the backing store, so that a full tmpfs is `ENOSPC` now
/// rather than a SIGBUS at the first touch of a page.
#[cfg(memseg_linux)]
fn grow_reserved(file: &File, len: u64) -> io::Result<()> {
    // Reserve from 0, not from the old end: an object sized by someone
    // else's plain ftruncate may have holes below it too.
    raw::posix_fallocate(file.as_fd(), 0, len)
}

/// Grows `file` to `len` bytes (`len > 0`, larger than its current size)
/// and reserves the backing store where FreeBSD can.
#[cfg(memseg_freebsd)]
fn grow_reserved(file: &File, len: u64) -> io::Result<()> {
    match raw::posix_fallocate(file.as_fd(), 0, len) {
        // FreeBSD before 14 cannot allocate for shm objects: ENODEV (not a
        // regular file), EOPNOTSUPP, or EINVAL from some file systems. The
        // size still has to be set.
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(sys::EOPNOTSUPP | sys::ENODEV | sys::EINVAL)
            ) =>
        {
            file.set_len(len)
        }
        other => other,
    }
}

/// Grows `file` to `len` bytes. macOS has no `posix_fallocate`, and its
/// objects are backed by anonymous memory, not a size-limited tmpfs.
#[cfg(not(any(memseg_linux, memseg_freebsd)))]
fn grow_reserved(file: &File, len: u64) -> io::Result<()> {
    file.set_len(len)
}

/// The random part of a [`Shm::create_unique`] name: 16 hex digits.
///
/// std's `RandomState` is keyed from the OS random source once per thread
/// (and stepped for every new `RandomState`), so the digits are unpredictable
/// to other users; the pid, a process-wide counter and the time go into the
/// hash as well, so two calls never hash the same input.
fn random_suffix() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let mut hasher = RandomState::new().build_hasher();
    std::process::id().hash(&mut hasher);
    COUNTER.fetch_add(1, Ordering::Relaxed).hash(&mut hasher);
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
        .hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// The name a [`Shm`] owns, and whether dropping the `Shm` removes it.
///
/// This lives apart from the descriptor so that [`Shm`] itself has no `Drop`
/// and [`Shm::into_file`] can move the [`File`] out without `unsafe`.
struct NameOwner {
    name: ShmName,
    // Atomic so that `Shm::unlink(&self)` can clear it while `Shm` stays
    // `Sync`; it guards nothing else, so `Relaxed` is enough.
    unlink_on_drop: AtomicBool,
}

impl Drop for NameOwner {
    fn drop(&mut self) {
        if *self.unlink_on_drop.get_mut() {
            // Errors are ignored: `drop` cannot return them, panicking here
            // could abort a thread that is already unwinding, and the likely
            // ones leave nothing to fix (ENOENT: someone else removed the name
            // first). Call `Shm::unlink` to see them.
            let _ = raw::shm_unlink(self.name.as_c_str());
        }
    }
}

/// `shm_open(3)` handle - an open POSIX shared-memory object: its descriptor,
/// its normalised name, its length, and whether dropping it removes the
/// name.
///
/// The creator ([`Shm::create_new`], [`Shm::create_unique`]) removes the name
/// on drop unless told to keep it; a handle from [`Shm::open`] does not.
/// Dropping always closes the descriptor. Map it with the crate's mapping
/// types through [`AsFd`], or use [`Shm::file`] for `read_at`/`write_at`.
///
/// # Examples
/// ```
/// use memseg::Shm;
/// use std::os::unix::fs::FileExt;
/// let name = format!("memseg-doc-shm-{}", std::process::id());
/// let creator = Shm::create_new(&name, 4096)?;
/// let peer = Shm::open(&name)?; // typically in another process
/// creator.file().write_at(b"hi", 0)?;
/// let mut buf = [0; 2];
/// peer.file().read_at(&mut buf, 0)?;
/// assert_eq!(&buf, b"hi");
/// drop(creator); // removes the name; `peer` still works
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
/// - [`shm_overview(7)`](https://man7.org/linux/man-pages/man7/shm_overview.7.html)
/// - [`shm_open(3)`](https://man7.org/linux/man-pages/man3/shm_open.3.html)
pub struct Shm {
    // Declared before `owner`, so on drop the descriptor is closed first and
    // the name removed second; neither order is observable to peers.
    file: File,
    len: u64,
    owner: NameOwner,
}

impl Shm {
    /// `shm_open(O_RDWR | O_CREAT | O_EXCL, 0600)` + `posix_fallocate` -
    /// creates a new object of `len` bytes, with its space reserved, that is
    /// removed when the handle is dropped.
    ///
    /// A `len` of 0 leaves the object empty. If reserving the space fails,
    /// the name is removed and the descriptor closed before the error is
    /// returned: nothing is left in `/dev/shm`.
    ///
    /// # Errors
    /// - `InvalidInput` (before any system call): an invalid name, or `len`
    ///   above `i64::MAX`.
    /// - `EEXIST` ([`io::ErrorKind::AlreadyExists`]) if the name is taken,
    ///   `EACCES`, `ENAMETOOLONG`, `EMFILE`.
    /// - `ENOSPC` if the file system cannot hold `len` bytes (Linux,
    ///   FreeBSD 14+), `EFBIG`.
    ///
    /// # Examples
    /// ```
    /// let name = format!("memseg-doc-create-new-{}", std::process::id());
    /// let shm = memseg::Shm::create_new(&name, 1 << 20)?;
    /// assert_eq!(shm.len(), 1 << 20);
    /// let err = memseg::Shm::create_new(&name, 0).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`shm_open(3)`](https://man7.org/linux/man-pages/man3/shm_open.3.html)
    /// - [`posix_fallocate(3)`](https://man7.org/linux/man-pages/man3/posix_fallocate.3.html)
    /// - [`ftruncate(2)`](https://man7.org/linux/man-pages/man2/ftruncate.2.html) (macOS)
    #[doc(alias = "shm_open")]
    pub fn create_new<N: ToShmName>(name: N, len: u64) -> io::Result<Shm> {
        check_len(len)?;
        let name = name.to_shm_name()?.into_owned();
        Shm::create_named(name, len)
    }

    /// The body of `create_new` once the name and length are checked.
    fn create_named(name: ShmName, len: u64) -> io::Result<Shm> {
        let flags = OFlags::RDWR | OFlags::CREAT | OFlags::EXCL | always_flags();
        let fd = raw::shm_open(name.as_c_str(), flags, DEFAULT_MODE)?;
        let mut shm = Shm {
            file: File::from(fd),
            len: 0,
            owner: NameOwner {
                name,
                unlink_on_drop: AtomicBool::new(true),
            },
        };
        // From here on an early return drops `shm`, which closes the
        // descriptor and removes the name we just created.
        if len > 0 {
            grow_reserved(&shm.file, len)?;
        }
        shm.len = len;
        Ok(shm)
    }

    /// `shm_open(O_CREAT | O_EXCL)` with a random name - creates a new object
    /// named `/{prefix}{16 random hex digits}`, like [`Shm::create_new`].
    ///
    /// The name is retried on `EEXIST`, up to 100 times. `prefix` may start
    /// with `/`; it must not contain another `/` or a NUL byte, and must be
    /// short enough for the whole name to fit [`ShmName::MAX_LEN`]: at most
    /// 14 bytes on macOS (31 - 1 - 16), 239 on Linux. [`Shm::name`] tells the
    /// name to pass to the peers.
    ///
    /// # Errors
    /// - `InvalidInput` (before any system call): an invalid or too long
    ///   `prefix`, or `len` above `i64::MAX`.
    /// - `EEXIST` if 100 random names were all taken; otherwise as for
    ///   [`Shm::create_new`].
    ///
    /// # Examples
    /// ```
    /// let shm = memseg::Shm::create_unique("memseg-doc-", 4096)?;
    /// assert!(shm.name().as_str().starts_with("/memseg-doc-"));
    /// assert_eq!(shm.name().as_str().len(), "/memseg-doc-".len() + 16);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`shm_open(3)`](https://man7.org/linux/man-pages/man3/shm_open.3.html)
    /// - [`posix_fallocate(3)`](https://man7.org/linux/man-pages/man3/posix_fallocate.3.html)
    #[doc(alias = "shm_open")]
    pub fn create_unique(prefix: &str, len: u64) -> io::Result<Shm> {
        check_len(len)?;
        let prefix = prefix.strip_prefix('/').unwrap_or(prefix);
        check_component(prefix, "shm name prefix")?;
        let max_prefix = ShmName::MAX_LEN - 1 - UNIQUE_DIGITS;
        if prefix.len() > max_prefix {
            return Err(raw::invalid(format!(
                "shm name prefix too long: at most {} bytes on this platform, so that the name with its {} random digits fits",
                max_prefix, UNIQUE_DIGITS
            )));
        }
        let mut tries = 0;
        loop {
            let name = ShmName::new(&format!("/{}{}", prefix, random_suffix()))?;
            tries += 1;
            match Shm::create_named(name, len) {
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < UNIQUE_TRIES => {
                    continue
                }
                other => return other,
            }
        }
    }

    /// `shm_open(name, O_RDWR)` + `fstat` - opens an existing object for
    /// reading and writing; dropping the handle does not remove the name.
    ///
    /// [`Shm::len`] is the size `fstat` reports at open time (on macOS,
    /// rounded up to a page).
    ///
    /// # Errors
    /// - `InvalidInput` for an invalid name (no system call made).
    /// - `ENOENT` ([`io::ErrorKind::NotFound`]) if no object has that name,
    ///   `EACCES`, `ELOOP` (Linux: a symbolic link at the name), `EMFILE`.
    /// - `InvalidData` if the name refers to something other than a regular
    ///   file.
    ///
    /// # Examples
    /// ```
    /// let name = format!("memseg-doc-open-{}", std::process::id());
    /// let creator = memseg::Shm::create_new(&name, 1 << 16)?;
    /// let shm = memseg::Shm::open(&name)?;
    /// assert_eq!(shm.len(), 1 << 16);
    /// assert!(!shm.unlinks_on_drop());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`shm_open(3)`](https://man7.org/linux/man-pages/man3/shm_open.3.html)
    /// - [`fstat(2)`](https://man7.org/linux/man-pages/man2/fstat.2.html)
    #[doc(alias = "shm_open")]
    pub fn open<N: ToShmName>(name: N) -> io::Result<Shm> {
        Shm::open_with(name, OFlags::RDWR)
    }

    /// `shm_open(name, O_RDONLY)` + `fstat` - opens an existing object for
    /// reading only; dropping the handle does not remove the name.
    ///
    /// # Errors
    /// As for [`Shm::open`]. Writing through the descriptor fails with
    /// `EBADF`, and [`Shm::set_len`] with `EINVAL` or `EBADF`.
    ///
    /// # Examples
    /// ```
    /// let name = format!("memseg-doc-open-ro-{}", std::process::id());
    /// let creator = memseg::Shm::create_new(&name, 1 << 16)?;
    /// let shm = memseg::Shm::open_read_only(&name)?;
    /// assert_eq!(shm.len(), 1 << 16);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`shm_open(3)`](https://man7.org/linux/man-pages/man3/shm_open.3.html)
    /// - [`fstat(2)`](https://man7.org/linux/man-pages/man2/fstat.2.html)
    #[doc(alias = "shm_open")]
    pub fn open_read_only<N: ToShmName>(name: N) -> io::Result<Shm> {
        Shm::open_with(name, OFlags::RDONLY)
    }

    /// The body of `open` and `open_read_only`.
    fn open_with<N: ToShmName>(name: N, access: OFlags) -> io::Result<Shm> {
        let name = name.to_shm_name()?.into_owned();
        // The mode is ignored without O_CREAT.
        let (file, meta) = open_checked(&name, access | always_flags(), 0)?;
        Ok(Shm {
            file,
            len: meta.len(),
            owner: NameOwner {
                name,
                unlink_on_drop: AtomicBool::new(false),
            },
        })
    }

    /// `shm_unlink(3)` - removes the name now, reporting every error; the
    /// object lives on until its last descriptor and mapping are gone.
    ///
    /// Afterwards dropping the handle does not remove the name again, even
    /// if this call failed: the name may by then belong to a new object.
    ///
    /// # Errors
    /// `ENOENT` if the name is already gone (someone else removed it),
    /// `EACCES`.
    ///
    /// # Examples
    /// ```
    /// let name = format!("memseg-doc-unlink-{}", std::process::id());
    /// let shm = memseg::Shm::create_new(&name, 4096)?;
    /// shm.unlink()?;
    /// assert_eq!(memseg::Shm::open(&name).unwrap_err().kind(), std::io::ErrorKind::NotFound);
    /// assert_eq!(shm.len(), 4096); // the object itself is still there
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`shm_unlink(3)`](https://man7.org/linux/man-pages/man3/shm_unlink.3.html)
    #[doc(alias = "shm_unlink")]
    pub fn unlink(&self) -> io::Result<()> {
        self.owner.unlink_on_drop.store(false, Ordering::Relaxed);
        raw::shm_unlink(self.owner.name.as_c_str())
    }

    /// Keeps the name when the handle is dropped - the same as
    /// `set_unlink_on_drop(false)`, for a creator whose object must outlive
    /// it.
    ///
    /// # Examples
    /// ```
    /// let name = format!("memseg-doc-keep-{}", std::process::id());
    /// let mut shm = memseg::Shm::create_new(&name, 4096)?;
    /// shm.keep();
    /// drop(shm);
    /// memseg::shm_unlink(&name)?; // still there; clean up by hand
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`shm_unlink(3)`](https://man7.org/linux/man-pages/man3/shm_unlink.3.html)
    pub fn keep(&mut self) {
        self.set_unlink_on_drop(false);
    }

    /// `shm_unlink(3)` on drop - chooses whether dropping the handle removes
    /// the name (`true` by default for creators, `false` for openers).
    ///
    /// # Examples
    /// ```
    /// let name = format!("memseg-doc-set-unlink-{}", std::process::id());
    /// let mut creator = memseg::Shm::create_new(&name, 4096)?;
    /// creator.keep();
    /// let mut last_user = memseg::Shm::open(&name)?;
    /// last_user.set_unlink_on_drop(true);
    /// drop(creator);
    /// drop(last_user); // removes the name
    /// assert!(memseg::Shm::open(&name).is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`shm_unlink(3)`](https://man7.org/linux/man-pages/man3/shm_unlink.3.html)
    pub fn set_unlink_on_drop(&mut self, unlink: bool) {
        *self.owner.unlink_on_drop.get_mut() = unlink;
    }

    /// Whether dropping the handle will remove the name.
    ///
    /// # Examples
    /// ```
    /// let shm = memseg::Shm::create_unique("memseg-doc-", 0)?;
    /// assert!(shm.unlinks_on_drop());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`shm_unlink(3)`](https://man7.org/linux/man-pages/man3/shm_unlink.3.html)
    pub fn unlinks_on_drop(&self) -> bool {
        self.owner.unlink_on_drop.load(Ordering::Relaxed)
    }

    /// The normalised name (with its leading `/`) the handle was opened or
    /// created with.
    ///
    /// # Examples
    /// ```
    /// let name = format!("memseg-doc-name-{}", std::process::id());
    /// let shm = memseg::Shm::create_new(&name, 0)?;
    /// assert_eq!(shm.name().as_str(), format!("/{}", name));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`shm_overview(7)`](https://man7.org/linux/man-pages/man7/shm_overview.7.html)
    pub fn name(&self) -> &ShmName {
        &self.owner.name
    }

    /// The length in bytes as of creation, opening or the last
    /// [`Shm::set_len`]; another process may have resized the object since
    /// (`self.file().metadata()` asks `fstat` for the current one).
    ///
    /// # Examples
    /// ```
    /// let shm = memseg::Shm::create_unique("memseg-doc-", 8192)?;
    /// assert_eq!(shm.len(), 8192);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`fstat(2)`](https://man7.org/linux/man-pages/man2/fstat.2.html)
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether [`Shm::len`] is 0.
    ///
    /// # Examples
    /// ```
    /// let shm = memseg::Shm::create_unique("memseg-doc-", 0)?;
    /// assert!(shm.is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`fstat(2)`](https://man7.org/linux/man-pages/man2/fstat.2.html)
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The descriptor, as a [`File`] (for `metadata`, `read_at`/`write_at`,
    /// `try_clone`). Resizing through it bypasses [`Shm::set_len`]: no space
    /// is reserved and [`Shm::len`] is not updated.
    ///
    /// # Examples
    /// ```
    /// let shm = memseg::Shm::create_unique("memseg-doc-", 1 << 16)?;
    /// assert_eq!(shm.file().metadata()?.len(), 1 << 16);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`fstat(2)`](https://man7.org/linux/man-pages/man2/fstat.2.html)
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Gives up the handle and returns its descriptor; the name is kept,
    /// whatever the drop policy was (call [`Shm::unlink`] first to remove
    /// it).
    ///
    /// # Examples
    /// ```
    /// let name = format!("memseg-doc-into-file-{}", std::process::id());
    /// let file = memseg::Shm::create_new(&name, 1 << 16)?.into_file();
    /// assert_eq!(file.metadata()?.len(), 1 << 16);
    /// memseg::shm_unlink(&name)?; // kept, so remove it by hand
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`shm_unlink(3)`](https://man7.org/linux/man-pages/man3/shm_unlink.3.html)
    pub fn into_file(self) -> File {
        let Shm {
            file,
            len: _,
            mut owner,
        } = self;
        *owner.unlink_on_drop.get_mut() = false;
        file
    }

    /// `ftruncate(2)`, or `posix_fallocate(3)` when growing - resizes the
    /// object to `new_len` bytes, reserving the space when it grows.
    ///
    /// Growing reserves the whole `0..new_len` range (Linux, FreeBSD 14+), so
    /// a full tmpfs is `ENOSPC` here rather than a SIGBUS later; shrinking
    /// uses `ftruncate`. [`Shm::len`] is updated only on success. Mappings
    /// are not resized: pages of a mapping past the new end raise SIGBUS.
    ///
    /// # Errors
    /// - `InvalidInput` if `new_len` is above `i64::MAX` (no system call).
    /// - `ENOSPC`, `EFBIG`; `EINVAL` or `EBADF` on a read-only handle;
    ///   on macOS, `EINVAL` for any object that already has a size (macOS
    ///   sizes an object once).
    ///
    /// # Examples
    /// ```
    /// let name = format!("memseg-doc-set-len-{}", std::process::id());
    /// let mut shm = memseg::Shm::create_new(&name, 0)?;
    /// shm.set_len(1 << 16)?;
    /// assert_eq!(shm.len(), 1 << 16);
    /// assert_eq!(memseg::Shm::open(&name)?.len(), 1 << 16);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # References
    /// - [`ftruncate(2)`](https://man7.org/linux/man-pages/man2/ftruncate.2.html)
    /// - [`posix_fallocate(3)`](https://man7.org/linux/man-pages/man3/posix_fallocate.3.html)
    #[doc(alias = "ftruncate", alias = "posix_fallocate")]
    pub fn set_len(&mut self, new_len: u64) -> io::Result<()> {
        // macOS never needs the current size (see resize_from).
        let current = if cfg!(any(memseg_linux, memseg_freebsd)) {
            self.file.metadata()?.len()
        } else {
            0
        };
        self.resize_from(current, new_len)
    }

    /// [`set_len`](Self::set_len) for a caller that has just read the
    /// object's current size with `fstat` (`set_len_and_remap`), so it is
    /// not asked for twice.
    pub(crate) fn resize_from(&mut self, current: u64, new_len: u64) -> io::Result<()> {
        check_len(new_len)?;
        #[cfg(any(memseg_linux, memseg_freebsd))]
        {
            if new_len > current {
                grow_reserved(&self.file, new_len)?;
            } else if new_len < current {
                self.file.set_len(new_len)?;
            }
        }
        // macOS: one ftruncate, whatever the current size; a second one is
        // its EINVAL to report.
        #[cfg(not(any(memseg_linux, memseg_freebsd)))]
        {
            let _ = current;
            grow_reserved(&self.file, new_len)?;
        }
        self.len = new_len;
        Ok(())
    }
}

impl fmt::Debug for Shm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shm")
            .field("name", &self.name().as_str())
            .field("fd", &self.file.as_raw_fd())
            .field("len", &self.len)
            .field("unlink_on_drop", &self.unlinks_on_drop())
            .finish()
    }
}

impl AsFd for Shm {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl AsRawFd for Shm {
    fn as_raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

/// `shm_unlink(3)` - removes the shared-memory object name `name`, reporting
/// every error (`ENOENT` included).
///
/// Existing descriptors and mappings stay valid; the object is freed when
/// the last of them is gone.
///
/// # Errors
/// - `InvalidInput` for an invalid name (no system call made).
/// - `ENOENT` ([`io::ErrorKind::NotFound`]) if no object has that name,
///   `EACCES`.
///
/// # Examples
/// ```
/// let name = format!("memseg-doc-shm-unlink-{}", std::process::id());
/// memseg::Shm::create_new(&name, 0)?.keep();
/// memseg::shm_unlink(&name)?;
/// assert_eq!(memseg::shm_unlink(&name).unwrap_err().kind(), std::io::ErrorKind::NotFound);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # References
/// - [`shm_unlink(3)`](https://man7.org/linux/man-pages/man3/shm_unlink.3.html)
pub fn shm_unlink<N: ToShmName>(name: N) -> io::Result<()> {
    let name = name.to_shm_name()?;
    raw::shm_unlink(name.as_c_str())
}
