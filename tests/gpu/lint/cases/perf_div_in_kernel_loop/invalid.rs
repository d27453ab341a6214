#[rustg::kernel]
pub fn k(x: Slice<u32>, mut y: SliceMut<u32>, n: u32) {
    for i in 0..x.len() {
        y[i] = x[i] % n; //~
        y[i] /= n; //~
    }
}
