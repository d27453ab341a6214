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
