#[rustg::device]
fn f() -> u32 {
    core::cmp::max(1, 2)
}
fn host() { let _ = std::cmp::max(1, 2); }
