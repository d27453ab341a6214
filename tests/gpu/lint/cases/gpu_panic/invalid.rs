#[rustg::kernel]
pub fn k(x: Slice<f32>) {
    assert!(x.len() > 0); //~
    if x.len() == 3 { panic!("three"); } //~
    unreachable!(); //~
}
