#[rustg::kernel]
pub fn k<T: Copy>(x: Slice<T>) {} //~
#[rustg::kernel]
pub fn r(x: Slice<f32>) -> u32 { 0 } //~
