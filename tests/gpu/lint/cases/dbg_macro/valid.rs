fn f(x: u32) -> u32 {
    let y = x * 2;
    y
}
// dbg!(y) in a comment
