#[rustg::kernel]
pub fn k(x: Slice<f32>) {
    let v: Vec<f32> = Vec::new(); //~ 2
    let s = String::new(); //~
    let b = Box::new(1u32); //~
}
