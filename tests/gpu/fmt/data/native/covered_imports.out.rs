pub(crate) use crate::a::{zeta, Alpha, Z_CONST};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{self, Read, Write};
use x::b::c;

extern crate alloc;
extern crate core;

pub mod a;
mod b;
