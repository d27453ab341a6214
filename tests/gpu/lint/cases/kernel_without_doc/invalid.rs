#[rustg::kernel]
pub fn saxpy(a: f32, x: Slice<f32>, mut y: SliceMut<f32>) {} //~
