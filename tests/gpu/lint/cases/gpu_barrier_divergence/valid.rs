#[rustg::kernel]
pub fn k(mut x: SliceMut<f32>, n: u32) {
    let t = rustg::thread_idx_x();
    if t < 16 {
        x[t as usize] = 1.0;
    }
    rustg::sync_threads();
    if n > 4 {
        rustg::sync_threads(); // uniform: every thread sees the same n
    }
    for _ in 0..n {
        rustg::sync_threads();
    }
}
