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
