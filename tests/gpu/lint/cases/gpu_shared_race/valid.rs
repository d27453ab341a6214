#[rustg::kernel]
pub fn k(x: Slice<f32>, mut y: SliceMut<f32>) {
    let t = rustg::thread_idx_x() as usize;
    let mut tile = rustg::shared_array!(f32, 256);
    tile[t] = x[t];
    rustg::sync_threads();
    y[t] = tile[255 - t];
}
// examples/gpu-kernels' block_sum: the read on the right is before the write on the left
#[rustg::kernel]
pub fn block_sum(input: Slice<f32>, mut partials: SliceMut<f32>) {
    let mut cache = rustg::shared_array!(f32, 256);
    let t = rustg::thread_idx_x() as usize;
    cache[t] = input[t];
    rustg::sync_threads();
    let mut half = 128;
    while half > 0 {
        if t < half {
            cache[t] += cache[t + half];
        }
        rustg::sync_threads();
        half /= 2;
    }
}
