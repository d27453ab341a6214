#[rustg::kernel]
pub fn k(x: Slice<f32>, mut y: SliceMut<f32>, stride: usize) {
    let t = rustg::global_idx_x();
    y[t] = x[t] * 2.0;
    let a = [t * 2, 0];
}
// examples/gpu-kernels' transpose: a padded shared tile is indexed with a stride on purpose
#[rustg::kernel]
pub fn transpose(input: Slice<f32>, mut output: SliceMut<f32>) {
    let mut tile = rustg::shared_array!(f32, 1056);
    let tx = rustg::thread_idx_x() as usize;
    output[0] = tile[tx * 33 + 1];
}
