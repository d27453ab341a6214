/// doc
#[rustg::kernel]
pub fn k(x: Slice<f32>, mut y: SliceMut<f32>) {}
#[rustg::device]
fn d<T: Copy>(x: T) -> T { x }
