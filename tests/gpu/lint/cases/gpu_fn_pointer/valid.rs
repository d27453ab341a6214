#[rustg::device]
fn apply(x: f32) -> f32 { x }
fn host(f: fn(f32) -> f32) -> f32 { f(1.0) }
