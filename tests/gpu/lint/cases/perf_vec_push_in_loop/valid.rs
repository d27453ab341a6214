fn f(n: usize) -> Vec<usize> {
    let mut v = Vec::with_capacity(n);
    for i in 0..n {
        v.push(i * 2);
    }
    let mut w = Vec::new();
    while w.len() < n { w.push(1); }
    v
}
