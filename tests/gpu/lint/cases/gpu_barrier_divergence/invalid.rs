#[rustg::kernel]
pub fn k(mut x: SliceMut<f32>) {
    let t = rustg::thread_idx_x();
    let half = t / 2;
    if t < 16 {
        rustg::sync_threads(); //~
    }
    if half == 0 {
        x[0] = 1.0;
    } else {
        rustg::sync_threads(); //~
    }
    while rustg::lane_id() < 4 {
        rustg::sync_threads(); //~
    }
}
