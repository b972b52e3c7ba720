//! The types a mapping may be viewed as.

use std::sync::atomic;

/// Plain old data: a type for which every byte pattern of its size is a
/// valid value, so it can be read from memory that anything wrote.
///
/// Implemented for the integers, `f32`, `f64` and arrays of `Pod` types.
/// `bool`, `char`, references, pointers and enums are not `Pod` (not every
/// byte pattern is a valid value of them), nor are the atomics: they are
/// [`AtomicPod`] instead, which memseg hands out only from writable
/// mappings, because a `&AtomicU64` into a read-only page would let safe
/// code `store` into it and fault.
///
/// `Pod` requires `Copy`, so a `Pod` type has no `Drop` impl and no drop
/// glue: a value bit-copied into mapped memory can never be dropped twice.
///
/// # Safety
/// To implement `Pod` for your own type, all of these must hold:
/// - it is `#[repr(C)]` (or `#[repr(transparent)]`) so its layout is fixed;
/// - every field is itself `Pod`;
/// - it has **no padding** bytes (add explicit `_pad: [u8; N]` fields), since
///   padding is uninitialised and memseg may expose a mapping's bytes;
/// - it has no interior mutability (`Cell`, atomics, ...).
///
/// ```
/// #[derive(Clone, Copy)]
/// #[repr(C)]
/// struct Header {
///     magic: u32,
///     version: u16,
///     _pad: [u8; 2],
///     len: u64,
/// }
/// // SAFETY: repr(C), every field Pod, no padding (4 + 2 + 2 + 8 = 16 bytes,
/// // and 16 is a multiple of the alignment 8), no interior mutability.
/// unsafe impl memseg::Pod for Header {}
/// ```
pub unsafe trait Pod: Copy + Send + Sync + 'static {}

macro_rules! impl_pod {
    ($($t:ty),*) => {
        $(
            // SAFETY: a primitive number: every byte pattern is a valid value,
            // no padding, no interior mutability, no drop glue.
            unsafe impl Pod for $t {}
        )*
    };
}
impl_pod!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);

// SAFETY: an array of Pod has no padding between elements (size is a
// multiple of alignment) and inherits every other property from T.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}

/// Types made only of atomics, which memseg hands out by shared reference
/// from **writable** mappings ([`crate::Mmap::atomic`],
/// [`crate::SharedMmap::atomic`]): the safe way for several threads or
/// processes to update one segment at the same time.
///
/// Implemented for `AtomicU8` ... `AtomicU64`, `AtomicI8` ... `AtomicI64`,
/// `AtomicUsize`, `AtomicIsize` (the 64-bit ones where the target has 64-bit
/// atomics) and arrays of `AtomicPod` types.
///
/// # Safety
/// To implement it for your own type: `#[repr(C)]`, every field
/// `AtomicPod`, no padding, every byte pattern valid, no drop glue.
///
/// ```
/// use std::sync::atomic::{AtomicU32, AtomicU64};
/// #[repr(C)]
/// struct Counters {
///     hits: AtomicU64,
///     misses: AtomicU64,
///     flags: [AtomicU32; 2],
/// }
/// // SAFETY: repr(C), atomics only, no padding (8 + 8 + 4 * 2 = 24 bytes).
/// unsafe impl memseg::AtomicPod for Counters {}
/// ```
pub unsafe trait AtomicPod: Send + Sync + 'static {}

macro_rules! impl_atomic {
    ($($(#[$m:meta])* $t:ident),*) => {
        $(
            $(#[$m])*
            // SAFETY: an atomic integer has the layout of its integer: every
            // byte pattern valid, no padding, no drop glue.
            unsafe impl AtomicPod for atomic::$t {}
        )*
    };
}
impl_atomic!(
    AtomicU8,
    AtomicI8,
    AtomicU16,
    AtomicI16,
    AtomicU32,
    AtomicI32,
    #[cfg(target_has_atomic = "64")]
    AtomicU64,
    #[cfg(target_has_atomic = "64")]
    AtomicI64,
    AtomicUsize,
    AtomicIsize
);

// SAFETY: an array of AtomicPod has no padding between elements and inherits
// every other property from A.
unsafe impl<A: AtomicPod, const N: usize> AtomicPod for [A; N] {}
