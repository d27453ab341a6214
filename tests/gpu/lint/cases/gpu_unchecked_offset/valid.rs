#[rustg::kernel]
pub unsafe fn k(p: *mut f32, n: usize) {
    let i = rustg::global_idx_x();
    if i >= n {
        return;
    }
    *p.add(i) = 0.0;
}
#[rustg::kernel]
pub unsafe fn k2(p: *mut f32, n: usize) {
    *p.add(3) = 0.0;
}
