fn let_match(y: u8) -> u8 {
    let x = match y { 1 => 2, _ => 3 };
    let z = loop { break 1; };
    let w = unsafe { let a = 1; a };
    let v = unsafe { foo(); };
    let u = { let a = 1; a };
    x + z + w + u
}

fn let_if(a: bool) {
    let x = if a { b } else { c };
    let x = if a { bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb } else { c };
    let x = if a { bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb } else { c };
    let xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx = if a { bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb } else { c };
    let xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx = if a { bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb } else { c };
    let x = if a { let q = 1; q } else { c };
    let x = if a { b } else if c { d } else { e };
    let x = if a { b } else { c; };
    let x = if a { b };
}

fn attributed() {
    #[cfg(x)] let y = 2;
    #[cfg(x)]
    #[allow(unused)]
    foo();
    #[derive(Debug)] struct P;
    #[cfg(not(x))]
    y
}

fn uses_in_block() {
    use a::b;
    // c
    use b::c;

    use a::d;
    let x = 1;
    use e;
    pub(crate) use f;
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate alloc;
    extern crate core;
    mod a;
    mod b;
    use b;

    use a;

    #[test]
    fn it_works() {
        assert_eq!(2 + 2, 4);
    }
}

impl<T> Empty for Y<T> where T: Clone {}
impl<T> Empty for Y<T> where T: Clone, {}
impl<T> Empty for Y<T> where T: Clone, U: Copy {}
trait Marker<T> where T: Clone {}

mod comment_lines_end_groups {
    use b;
    // a comment on its own line ends the group
    use a;
    #[macro_use]
    mod m;
    mod c;
    #[macro_use]
    mod z;
    mod d;
}

fn trailing_comments() {
    let x = 1;     // a
    foo();// b
    let y = match x { 1 => 2, _ => 3 }; // c
    foo(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb); // d
    if a {
        b(); // e
    }
}

fn arm_struct(x: u8) -> Foo {
    match x { 0 => { Foo { first: 1, second: 2, third: 3 } } 1 => Foo { first: 1, second: 2, third: 3, ..Default::default() }, _ => Foo::default() }
}
fn arm_struct2(x: u8) -> Foo {
    match x { 0 => Foo { first: 1, second: 2, third: 3 }, Some(y) if y > 0 => Foo { first: 1, second: 2, third: 3 } }
}

fn arm_bodies_kept_braced() {
    match a {
        Some(x) => {
            if x { b(); } else { c(); }
        }
        None => {
            for i in x { y(); }
        }
    }
}
