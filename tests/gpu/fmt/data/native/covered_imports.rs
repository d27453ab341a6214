pub(crate)  use crate::a::{Z_CONST,zeta,Alpha};
use   std::collections::{HashMap,BTreeMap};
use std::fmt ;
use std::io::{self,Write,Read};
use x::{b::{c}};

extern crate  alloc;
extern crate core;

pub mod a;
mod b ;
