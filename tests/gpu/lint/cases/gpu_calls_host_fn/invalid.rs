fn helper(x: f32) -> f32 { x * 2.0 }

#[rustg::kernel]
pub fn k(mut y: SliceMut<f32>) {
    y[0] = helper(1.0); //~
}
