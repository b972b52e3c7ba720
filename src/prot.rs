//! Protections as types, so that what a mapping allows is known at compile
//! time: `object_mut` exists only on [`ReadWrite`] mappings.

use crate::raw::ProtFlags;

mod sealed {
    pub trait Sealed {}
}

/// A mapping's protection (`PROT_*`), as a type. Sealed: [`ReadOnly`],
/// [`ReadWrite`] and [`ReadExec`].
///
/// Every protection memseg offers includes `PROT_READ`, so every mapping can
/// be read. There is deliberately no write-and-execute protection.
pub trait Protection: sealed::Sealed + Copy + Default + Send + Sync + 'static {
    /// The `PROT_*` bits.
    const FLAGS: ProtFlags;
}

/// Protections that include `PROT_WRITE`.
pub trait Writable: Protection {}

/// `PROT_READ`: the pages can be read; a store faults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ReadOnly;

/// `PROT_READ | PROT_WRITE`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ReadWrite;

/// `PROT_READ | PROT_EXEC`: the pages can be read and executed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ReadExec;

impl sealed::Sealed for ReadOnly {}
impl sealed::Sealed for ReadWrite {}
impl sealed::Sealed for ReadExec {}

impl Protection for ReadOnly {
    const FLAGS: ProtFlags = ProtFlags::READ;
}
impl Protection for ReadWrite {
    const FLAGS: ProtFlags = ProtFlags::READ.union(ProtFlags::WRITE);
}
impl Protection for ReadExec {
    const FLAGS: ProtFlags = ProtFlags::READ.union(ProtFlags::EXEC);
}
impl Writable for ReadWrite {}
