#[rustg::device]
fn f() -> u32 {
    let _ = std::cmp::max(1, 2); //~
    0
}
