#[rustg::kernel]
pub fn k(x: Slice<f32>, mut y: SliceMut<f32>) {
    let t = rustg::thread_idx_x() as usize;
    let mut tile = rustg::shared_array!(f32, 256);
    tile[t] = x[t];
    rustg::sync_threads();
    y[t] = tile[255 - t];
}
