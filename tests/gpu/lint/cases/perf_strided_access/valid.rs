#[rustg::kernel]
pub fn k(x: Slice<f32>, mut y: SliceMut<f32>, stride: usize) {
    let t = rustg::global_idx_x();
    y[t] = x[t] * 2.0;
    let a = [t * 2, 0];
}
