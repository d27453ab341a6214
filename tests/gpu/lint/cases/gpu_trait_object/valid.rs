#[rustg::device]
fn apply<F: Fn(f32) -> f32>(f: F, x: f32) -> f32 { f(x) }
fn host(f: &dyn Fn(f32) -> f32) -> f32 { f(1.0) }
