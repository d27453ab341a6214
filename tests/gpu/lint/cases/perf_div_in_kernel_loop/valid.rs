#[rustg::kernel]
pub fn k(x: Slice<u32>, mut y: SliceMut<u32>, n: u32) {
    let m = x[0] / n;
    for i in 0..x.len() {
        y[i] = x[i] / 4 + x[i] % WARP_SIZE + m;
    }
}
fn host(n: u32) { for i in 0..10u32 { let _ = i / n; } }
