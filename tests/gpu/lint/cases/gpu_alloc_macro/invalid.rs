#[rustg::device]
fn f(i: u32) -> u32 {
    let v = vec![1, 2, 3]; //~
    let s = format!("{i}"); //~
    0
}
