#[rustg::kernel]
pub fn k(x: Slice<f32>) {
    println!("{}", x[0]); //~
    eprint!("x"); //~
}
