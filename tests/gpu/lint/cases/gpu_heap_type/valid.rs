pub fn host() -> Vec<f32> {
    let v: Vec<f32> = Vec::new();
    v
}
#[rustg::kernel]
pub fn k(x: Slice<f32>, mut y: SliceMut<f32>) {
    let tile = rustg::shared_array!(f32, 32);
    // a Vec in a comment is fine, and "Vec" in a string
    let _s = "Vec";
}
