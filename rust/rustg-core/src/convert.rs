//! `From` / `Into` for the lossless conversions between primitives (`u64::from(x_u32)`), as in
//! `core::convert`.

pub trait From<T>: Sized {
    fn from(value: T) -> Self;
}

pub trait Into<T>: Sized {
    fn into(self) -> T;
}

impl<T, U: From<T>> Into<U> for T {
    #[inline(always)]
    fn into(self) -> U {
        U::from(self)
    }
}

impl<T> From<T> for T {
    #[inline(always)]
    fn from(value: T) -> T {
        value
    }
}

macro_rules! lossless {
    ($($from:ty => $($to:ty),*;)*) => {$($(
        impl From<$from> for $to {
            #[inline(always)]
            fn from(value: $from) -> $to {
                value as $to
            }
        }
    )*)*};
}

lossless! {
    bool => u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize;
    u8 => u16, u32, u64, u128, usize, i16, i32, i64, i128, isize;
    u16 => u32, u64, u128, usize, i32, i64, i128;
    u32 => u64, u128, i64, i128;
    u64 => u128, i128;
    i8 => i16, i32, i64, i128, isize;
    i16 => i32, i64, i128, isize;
    i32 => i64, i128;
    i64 => i128;
    u8 => f32, f64;
    u16 => f32, f64;
    u32 => f64;
    i8 => f32, f64;
    i16 => f32, f64;
    i32 => f64;
    f32 => f64;
}

impl From<u8> for char {
    #[inline(always)]
    fn from(value: u8) -> char {
        value as char
    }
}
