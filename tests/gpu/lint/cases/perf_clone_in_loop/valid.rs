fn f(items: &[u32], names: &Vec<String>) {
    let all = names.clone();
    for _x in items {
        let _ = &all;
    }
}
impl Clone for S { fn clone(&self) -> S { S } }
