#[rustg::device]
fn first(x: Slice<u32>) -> u32 {
    x.get(0).copied().unwrap_or(0)
}
fn host() { let _ = Some(1).unwrap(); }
