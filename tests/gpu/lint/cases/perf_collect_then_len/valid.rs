fn f(xs: &[i32]) -> usize {
    let v: Vec<&i32> = xs.iter().collect();
    v.len() + xs.iter().filter(|x| **x > 0).count()
}
