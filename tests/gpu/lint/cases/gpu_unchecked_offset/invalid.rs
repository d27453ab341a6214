#[rustg::kernel]
pub unsafe fn k(p: *mut f32, n: usize) {
    let i = rustg::global_idx_x();
    *p.add(i) = 0.0; //~
}
