#![allow(dead_code)]
#![cfg(not(target_os = "wasi"))]   // Wasi does not support bind()

use std::fmt;

const A: u32 = 1; /* a */
/* b */

// x
const B: u32 = 1; // c
// d
    // e (indented)
	// f (tab)

// g
fn long_one(a: u32) -> u32 { a + 1 } // after a multi-line item
//// four slashes

fn k() {}
mod m { fn a() {} }   // after a module block
// aligned after it
foo!(aaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, cccccccccccccccccccc, ddddddd); // a comment
// aligned under the last line of the macro
IFDEF!{
pub const X: u32 = 0;
}   // IFDEF(x86_64)
#[cfg(x)]
IFDEF!{
pub const Y: u32 = 0;
}
struct S; /* block */
// not aligned after a block comment
fn last() {} // x
   // y
