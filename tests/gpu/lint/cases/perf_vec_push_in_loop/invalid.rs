fn f(n: usize) -> Vec<usize> {
    let mut v = Vec::new(); //~
    for i in 0..n {
        v.push(i * 2);
    }
    v
}
