#[derive(Clone, Copy)]
struct Params {
    n: u32,
}

/// Fine.
#[rustg::kernel]
pub fn k(p: Params, x: Slice<f32>, mut y: SliceMut<f32>, a: f32) {}
fn host(v: Vec<f32>) {}
