//! memseg: POSIX shared-memory segments and memory-mapped files, with zero
//! dependencies.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

#[doc(hidden)]
pub mod sys;

pub mod raw;
