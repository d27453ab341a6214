fn commented() {
    let x = 1; // a trailing comment
    // that rustfmt may align as its continuation
    let y = 2;
}

fn tail_comment() {
    x // after a tail expression
}

struct Empty<T> where T: Clone {}

#[derive(Debug)]
#[derive(Clone)]
struct Merged;

#[rustfmt::skip]
const  SKIPPED : u32 = 1;

macro_rules! m { () => {} }


fn block_uses() {
    use b;
    use a;
}

mod inline {
    use b;
    use a;
}

fn cfg_unsafe() {
    #[cfg(x)]
    unsafe { f() }
}

fn if_macro_branch(a: bool) {
    let x = if a { b } else { m!(c) };
}

fn short_arguments_packed() {
    foo(aaaaaaa, bbbbbbb, ccccccc, ddddddd, eeeeeee, fffffff, ggggggg, hhhhhhh, iiiiiii, jjjjjjj);
}

fn closure_last_argument() {
    foo(aaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbb, cccccccccccccccccccc, |x| x + 1);
}

fn format_like_macro() {
    println!("{} {}", aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb);
}

fn short_closure_on_a_chain() {
    scope.spawn(|| { a(); b(); });
}

fn closure_call_not_overflowed() {
    foo(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbb, |a| { a(); b() });
}

use twice::{a::{b::{c, d}, e}, f};

use one::{a::{self}, b};

fn chain_last_child_overflows() {
    foo.bar().baz().qux(aaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, cccc);
}

fn special_macro_layout() {
    assert_eq!(edge, iiiiiiiiiiiiiiiiiii, "outgoing edges should have a fixed source and more");
}

fn closure_on_a_chain_over_chain_width() {
    self.inner.some_long_method_name(argument_one, argument_two, || { a(); b(); c(); });
}

fn nested_struct_literal_argument() {
    let y = Arc::new(Mutex::new(Foo { first: 1, second: 2, third: 3 }));
}

fn bracket_macro_trailing_comma() {
    m![x, y,];
}

fn vec_with_parens() {
    let a = vec!(1, 2);
}

fn wide_vec_with_parens() {
    vec!(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, cccccccccccccccccccc);
}

fn array_of_raw_strings() {
    let x = [r"a", r"b", r"c", r"d", r"e", r"f", r"g", r"h", r"i", r"j", r"k", r"l", r"m", r"n"];
}

fn array_with_a_closure_last() {
    let x = [aaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbb, cccccccccccccccccc, |x| { x }];
}

fn closure_body_an_if_without_statements() {
    foo(|x| { if x { a } else { b } });
}

fn closure_body_an_empty_loop() {
    foo(|x| { for i in x {} });
}

fn nested_literal_first_line_at_100() {
    let r = P { i: R { inner: response, push_promise_consumed: false }, xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx: Foo { aaaaaaa: 1, bbbbbbbbbbbbb: 2 } };
}

#[rustfmt::skip]
use  z::a;
use b::c;

fn arm_bodies_rustfmt_flattens() {
    match a {
        Some(x) => {
            match x {
                _ => 1,
            }
        }
        _ => {
            loop { y(); }
        }
    }
}
