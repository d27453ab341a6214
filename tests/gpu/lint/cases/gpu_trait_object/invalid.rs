#[rustg::device]
fn apply(f: &dyn Fn(f32) -> f32, x: f32) -> f32 { //~
    let g: &dyn Fn(f32) -> f32 = f; //~
    g(x)
}
