//! What every kernel module sees without imports, like `std`'s prelude. The generated kernel
//! crate installs it with `#[prelude_import] use rustg::prelude::*;`.

pub use crate::clone::Clone;
pub use crate::cmp::{Eq, Ord, PartialEq, PartialOrd};
pub use crate::convert::{From, Into};
pub use crate::iter::{DoubleEndedIterator, IntoIterator, Iterator};
pub use crate::marker::{Copy, Send, Sized, Sync, Unpin};
pub use crate::ops::{Drop, Fn, FnMut, FnOnce};
pub use crate::option::Option::{self, None, Some};

pub use crate::{
    assert, assert_eq, assert_ne, cfg, column, compile_error, concat, debug_assert, derive, file,
    line, matches, module_path, panic, stringify, todo, unimplemented, unreachable,
};
