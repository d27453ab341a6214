#[rustg::device]
fn helper(x: f32) -> f32 { x * 2.0 }

#[rustg::kernel]
pub fn k(mut y: SliceMut<f32>) {
    let i = rustg::global_idx_x();
    y[i] = helper(1.0) + y.len() as f32;
    rustg::sync_threads();
}
fn host() -> f32 { helper(2.0) }
