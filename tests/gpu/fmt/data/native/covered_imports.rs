pub(crate)  use crate::a::{Z_CONST,zeta,Alpha};
use   std::collections::{HashMap,BTreeMap};
use std::fmt ;
use std::io::{self,Write,Read};
use x::{b::{c}};

extern crate  alloc;
extern crate core;

extern crate proc_macro;
extern crate proc_macro2;

extern crate syn_derive;
extern crate syn;

pub mod a;
mod b ;

mod c;
#[cfg(x)]
mod b2;
/// doc
mod a2;
#[cfg(y)]
pub mod d;

pub use b::x;
use a::y;
pub(crate) use c::z;
#[cfg(feature = "std")]
#[allow(unused)]
use std::ffi::CStr;
use libc::c_int;
