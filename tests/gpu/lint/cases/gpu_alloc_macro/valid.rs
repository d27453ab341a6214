fn host(i: u32) -> String {
    let _v = vec![1, 2, 3];
    format!("{i}")
}
