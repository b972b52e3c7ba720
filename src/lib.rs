//! memseg: POSIX shared-memory segments and memory-mapped files, with zero
//! dependencies.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

#[doc(hidden)]
pub mod sys;

pub mod raw;

mod advice;
mod file;
#[cfg(memseg_linux)]
mod huge;
mod inner;
#[cfg(any(memseg_linux, memseg_freebsd))]
mod memfd;
mod mmap;
mod pod;
mod prot;
mod shared;
mod shm;
mod toolbox;

pub use advice::{Advice, UncheckedAdvice};
pub use file::MmapFile;
#[cfg(memseg_linux)]
pub use huge::HugePageSize;
#[cfg(any(memseg_linux, memseg_freebsd))]
pub use memfd::{Memfd, MemfdOptions};
pub use mmap::{Mmap, MmapOptions};
pub use pod::{AtomicPod, Pod};
pub use prot::{Protection, ReadExec, ReadOnly, ReadWrite, Writable};
pub use raw::MlockAllFlags;
pub use raw::MsyncFlags;
#[cfg(any(memseg_linux, memseg_freebsd))]
pub use raw::{MemfdFlags, SealFlags};
pub use shared::SharedMmap;
pub use shm::{shm_unlink, Shm, ShmName, ShmOptions, ToShmName};
pub use toolbox::{lock_all, unlock_all, ProtectError, Remap};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
