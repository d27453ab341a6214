/* licence */

#![deny(missing_docs)]
#![cfg_attr(not(feature = "std"), no_std)]
// It is not worth
// dead code warnings.
#![cfg_attr(miri, allow(dead_code))]

// c2

#![allow(unused)]
//! doc between


#![warn(x)] // t

/* blk */
#![doc(test(attr(deny(warnings))))] // last
// aligned under it

// Supporting
use a::b;

fn f() {}
