pub(crate) use crate::a::{zeta, Alpha, Z_CONST};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{self, Read, Write};
use x::b::c;

extern crate alloc;
extern crate core;

extern crate proc_macro;
extern crate proc_macro2;

extern crate syn;
extern crate syn_derive;

pub mod a;
mod b;

/// doc
mod a2;
#[cfg(x)]
mod b2;
mod c;
#[cfg(y)]
pub mod d;

use a::y;
pub use b::x;
pub(crate) use c::z;
use libc::c_int;
#[cfg(feature = "std")]
#[allow(unused)]
use std::ffi::CStr;
