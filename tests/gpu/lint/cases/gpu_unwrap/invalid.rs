#[rustg::device]
fn first(x: Slice<u32>) -> u32 {
    let a = *x.get(0).unwrap(); //~
    let b = *x.get(1).expect("two"); //~
    a + b
}
