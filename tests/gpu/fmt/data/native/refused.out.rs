use a;
#[cfg(x)]
use b;

fn commented() {
    let x = 1; // a trailing comment
}

struct Empty<T>
where
    T: Clone, {}

#[derive(Debug, Clone)]
struct Merged;

fn long_chain() {
    let v = items
        .iter()
        .filter(|x| x.is_some())
        .map(|x| x.unwrap())
        .collect::<Vec<_>>();
}

#[rustfmt::skip]
const  SKIPPED : u32 = 1;

fn wide_call() {
    call_something(
        first_argument_value,
        second_argument_value,
        third_argument_value_x,
    );
}

macro_rules! m {
    () => {};
}

fn arm_struct(x: u8) -> Foo {
    match x {
        0 => Foo {
            first: 1,
            second: 2,
            third: 3,
        },
        _ => Foo::default(),
    }
}

fn block_uses() {
    use a;
    use b;
}

mod inline {
    use b;
    // a comment keeps the group whole
    use a;
}

fn cfg_unsafe() {
    #[cfg(x)]
    unsafe {
        f()
    }
}

fn if_macro_branch(a: bool) {
    let x = if a { b } else { m!(c) };
}
