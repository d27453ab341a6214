#[derive(Clone)]
struct Params {
    n: u32,
}

#[rustg::kernel]
pub fn k(p: Params, v: Vec<f32>, r: &mut f32) {} //~ 3
