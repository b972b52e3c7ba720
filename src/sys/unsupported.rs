// memseg's C declarations are written and checked per platform; this target
// has none, so say so once instead of failing with fifty missing names.

#[cfg(memseg_unsupported)]
compile_error!(concat!(
    "memseg does not support the target `",
    env!("MEMSEG_TARGET"),
    "`: it has C declarations for Linux (glibc, musl) on x86_64, i686, aarch64, armv7, ",
    "riscv64, powerpc64le and s390x, for macOS on x86_64 and aarch64, and for FreeBSD on x86_64."
));

#[cfg(not(memseg_unsupported))]
compile_error!(
    "memseg's build.rs did not run: it classifies the target into the memseg_* cfgs that \
     src/sys needs. Vendored builds must run it (or pass the same --cfg flags)."
);

pub const TABLES: &[&[super::Const]] = &[];
pub const FUNCTION_TABLES: &[&[super::Func]] = &[];
