//! The C library, as memseg sees it: every `extern "C"` declaration and every
//! C constant the crate uses, and nothing else.
//!
//! This module is public only so that the ABI test (`tests/abi.rs`) and the
//! libc parity checker (`tests/parity/`) can compare it with the real headers
//! and with the `libc` crate. It is not part of memseg's stable API; use the
//! safe façade or [`crate::raw`] instead.
//!
//! Layout (the errno crate's pattern): `common.rs` holds what is the same on
//! every supported platform (POSIX fixes it and all three agree); one file
//! per C platform holds the rest, chosen by the
//! `memseg_*` cfg that `build.rs` sets; a target that build.rs does not
//! classify gets `unsupported.rs`, which is one `compile_error!`. Inside a
//! platform file a constant is split by architecture only where the headers
//! really differ.
//!
//! Every declaration goes through the `constants!` or `functions!` macro,
//! which also records it in a table ([`constants()`], [`functions()`]), so
//! the ABI test can prove it checked *every* item declared here for the host.

#![allow(non_camel_case_types, non_upper_case_globals)]

pub use std::ffi::c_void;
pub use std::os::raw::{c_char, c_int, c_long, c_uint};

/// C `size_t`: `usize` on every supported target.
pub type size_t = usize;
/// C `off_t` as memseg binds it: always 64 bits. On 32-bit glibc the
/// functions that take it are linked to their `*64` symbols (`mmap64`,
/// `posix_fallocate64`), which take `off64_t`.
pub type off_t = i64;

/// One C constant as declared here: its C name, its value, and its Rust type
/// name (which the ABI test maps to the C type it prints it as).
#[derive(Debug, Clone, Copy)]
pub struct Const {
    /// The C macro or enumerator name.
    pub name: &'static str,
    /// The value, widened.
    pub value: i64,
    /// The Rust type it is declared with (`c_int`, `c_uint`, `c_long`).
    pub ty: &'static str,
}

/// One C function as declared here.
#[derive(Debug, Clone, Copy)]
pub struct Func {
    /// The C name the headers declare.
    pub name: &'static str,
    /// The symbol memseg links to (differs on 32-bit glibc: `mmap64`).
    pub link_name: &'static str,
    /// The Rust parameter types, comma separated, `...` for C varargs.
    pub params: &'static str,
    /// The Rust return type.
    pub ret: &'static str,
    /// The address the linker resolved the symbol to, in this process.
    pub addr: fn() -> usize,
}

/// Declares `pub const NAME: TYPE = VALUE;` items and a table of them.
macro_rules! constants {
    ($table:ident: $( $(#[$m:meta])* $name:ident: $ty:ident = $val:expr; )*) => {
        $( $(#[$m])* pub const $name: $crate::sys::$ty = $val; )*
        /// Every constant declared by this block, for the ABI test.
        pub const $table: &[$crate::sys::Const] = &[
            $( $crate::sys::Const { name: stringify!($name), value: $name as i64, ty: stringify!($ty) }, )*
        ];
    };
}

/// Declares `extern "C"` functions and a table of them.
///
/// `[memseg_lfs64] fn mmap(..)` links `mmap64` when that cfg is set.
/// A C variadic is written `fn fcntl(fd: c_int, cmd: c_int; ...)`.
macro_rules! functions {
    ($table:ident: $( $(#[$m:meta])* $([$lfs:ident])? fn $name:ident($($arg:ident: $ty:ty),* $(; $dots:tt)?) -> $ret:ty; )*) => {
        extern "C" {
            $(
                $(#[$m])*
                $( #[cfg_attr($lfs, link_name = concat!(stringify!($name), "64"))] )?
                pub fn $name($($arg: $ty),* $(, $dots)?) -> $ret;
            )*
        }
        /// Every function declared by this block, for the ABI test.
        pub const $table: &[$crate::sys::Func] = &[
            $( $crate::sys::Func {
                name: stringify!($name),
                link_name: $( if cfg!($lfs) { concat!(stringify!($name), "64") } else )? { stringify!($name) },
                params: stringify!($($ty),* $(, $dots)?),
                ret: stringify!($ret),
                addr: || $name as unsafe extern "C" fn($($ty),* $(, $dots)?) -> $ret as usize,
            }, )*
        ];
    };
}

#[cfg_attr(memseg_linux, path = "linux.rs")]
#[cfg_attr(memseg_apple, path = "apple.rs")]
#[cfg_attr(memseg_freebsd, path = "freebsd.rs")]
#[cfg_attr(memseg_unsupported, path = "unsupported.rs")]
#[cfg_attr(
    not(any(memseg_linux, memseg_apple, memseg_freebsd, memseg_unsupported)),
    path = "unsupported.rs"
)]
mod platform;

#[cfg(not(memseg_unsupported))]
mod common;

#[cfg(not(memseg_unsupported))]
pub use common::*;
pub use platform::*;

/// The tables that are the same on every platform.
#[cfg(not(memseg_unsupported))]
const COMMON_TABLES: (&[&[Const]], &[&[Func]]) = (&[common::COMMON], &[common::FUNCTIONS]);
#[cfg(memseg_unsupported)]
const COMMON_TABLES: (&[&[Const]], &[&[Func]]) = (&[], &[]);

/// Every constant declared for this target.
pub fn constants() -> Vec<Const> {
    COMMON_TABLES
        .0
        .iter()
        .chain(platform::TABLES)
        .flat_map(|t| t.iter().copied())
        .collect()
}

/// Every function declared for this target.
pub fn functions() -> Vec<Func> {
    COMMON_TABLES
        .1
        .iter()
        .chain(platform::FUNCTION_TABLES)
        .flat_map(|t| t.iter().copied())
        .collect()
}
