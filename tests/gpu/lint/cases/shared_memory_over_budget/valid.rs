#[rustg::kernel]
pub fn k(x: Slice<f32>) {
    let a = rustg::shared_array!(f32, 4096);
    let b = rustg::shared_array!(u8, 1024);
}
