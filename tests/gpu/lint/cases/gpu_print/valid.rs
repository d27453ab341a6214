fn main() {
    println!("host code prints");
}
#[rustg::gpu_test(block = 32)]
fn t() {
    println!("tests on the emulator may print");
}
