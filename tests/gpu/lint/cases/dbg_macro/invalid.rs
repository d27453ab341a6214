fn f(x: u32) -> u32 {
    let y = dbg!(x * 2); //~
    dbg!(y) //~
}
