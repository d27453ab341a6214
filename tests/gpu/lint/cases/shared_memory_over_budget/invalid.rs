#[rustg::kernel]
pub fn k(x: Slice<f32>) {
    let a = rustg::shared_array!(f32, 8192);
    let b = rustg::shared_array!(f32, 8192); //~
}
