#[rustg::device]
fn fact(n: u32) -> u32 {
    let mut a = 1;
    for i in 1..=n { a *= i; }
    a
}
fn host_fact(n: u64) -> u64 { if n == 0 { 1 } else { n * host_fact(n - 1) } }
