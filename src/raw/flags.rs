//! The one private macro that generates memseg's flag sets and value sets.
//!
//! mio's hand-written `Interest` is the model: a `Copy` newtype over the C
//! integer, `const fn` union, `BitOr`, a `Debug` that prints `READ | WRITE`,
//! and unknown bits kept (so a value read back from the kernel, such as a
//! seal set, round-trips even when it holds bits memseg has no name for).
//! A constant a platform lacks is `#[cfg]`'d out, never a silent 0.

/// Generates a bit-flag newtype.
macro_rules! flags {
    (
        $(#[doc = $sdoc:literal])*
        pub struct $name:ident: $ty:ty {
            $(
                $(#[doc = $doc:literal])*
                $(#[cfg($cfg:meta)])?
                const $flag:ident = $value:expr;
            )*
        }
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name($ty);

        impl $name {
            $(
                $(#[doc = $doc])*
                $(#[cfg($cfg)])?
                pub const $flag: Self = Self($value);
            )*

            /// The empty set (C value 0).
            pub const fn empty() -> Self {
                Self(0)
            }

            /// The C value.
            pub const fn bits(self) -> $ty {
                self.0
            }

            /// Wraps a C value as is, keeping bits memseg has no name for.
            pub const fn from_bits_retain(bits: $ty) -> Self {
                Self(bits)
            }

            /// Every bit of `self` and of `other`.
            #[must_use]
            pub const fn union(self, other: Self) -> Self {
                Self(self.0 | other.0)
            }

            /// The bits of `self` that are not in `other`.
            #[must_use]
            pub const fn difference(self, other: Self) -> Self {
                Self(self.0 & !other.0)
            }

            /// Whether every bit of `other` is set in `self`.
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// Whether no bit is set.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }
        }

        impl core::ops::BitOr for $name {
            type Output = Self;
            fn bitor(self, other: Self) -> Self {
                self.union(other)
            }
        }

        impl core::ops::BitOrAssign for $name {
            fn bitor_assign(&mut self, other: Self) {
                *self = self.union(other);
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                let mut rest = self.0;
                let mut first = true;
                $(
                    $(#[cfg($cfg)])?
                    {
                        let v: $ty = $value;
                        if v != 0 && rest & v == v {
                            if !first {
                                f.write_str(" | ")?;
                            }
                            f.write_str(stringify!($flag))?;
                            rest &= !v;
                            first = false;
                        }
                    }
                )*
                if rest != 0 {
                    if !first {
                        f.write_str(" | ")?;
                    }
                    write!(f, "{:#x}", rest)?;
                } else if first {
                    write!(f, "{}", "(empty)")?;
                }
                Ok(())
            }
        }
    };
}

/// Generates a newtype for a C enumeration (one value at a time, no `|`).
macro_rules! values {
    (
        $(#[doc = $sdoc:literal])*
        pub struct $name:ident: $ty:ty {
            $(
                $(#[doc = $doc:literal])*
                $(#[cfg($cfg:meta)])?
                const $value_name:ident = $value:expr;
            )*
        }
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name($ty);

        impl $name {
            $(
                $(#[doc = $doc])*
                $(#[cfg($cfg)])?
                pub const $value_name: Self = Self($value);
            )*

            /// The C value.
            pub const fn raw(self) -> $ty {
                self.0
            }

            /// Wraps a C value as is.
            pub const fn from_raw(raw: $ty) -> Self {
                Self(raw)
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                $(
                    $(#[cfg($cfg)])?
                    {
                        if self.0 == $value {
                            return f.write_str(stringify!($value_name));
                        }
                    }
                )*
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}
