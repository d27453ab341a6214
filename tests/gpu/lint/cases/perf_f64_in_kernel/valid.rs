#[rustg::kernel]
pub fn k(mut y: SliceMut<f32>) {
    let a: f32 = 1.0;
}
fn host() -> f64 { 1.0f64 }
