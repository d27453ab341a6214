fn f(xs: &[i32]) -> usize {
    let a = xs.iter().filter(|x| **x > 0).collect::<Vec<_>>().len(); //~
    let b: Vec<i32> = xs.iter().copied().collect();
    let _ = xs.iter().collect::<Vec<_>>().is_empty(); //~
    a
}
