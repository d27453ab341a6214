#[rustg::device]
fn fact(n: u32) -> u32 {
    if n == 0 { 1 } else { n * fact(n - 1) } //~
}
#[rustg::device]
fn even(n: u32) -> bool { if n == 0 { true } else { odd(n - 1) } } //~
#[rustg::device]
fn odd(n: u32) -> bool { if n == 0 { false } else { even(n - 1) } } //~
