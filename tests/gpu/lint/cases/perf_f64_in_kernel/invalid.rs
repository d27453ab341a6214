#[rustg::kernel]
pub fn k(mut y: SliceMut<f32>) {
    let a: f64 = 1.0; //~
    let b = 2.5f64; //~
}
