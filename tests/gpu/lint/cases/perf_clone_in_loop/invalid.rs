fn f(items: &[u32], names: &Vec<String>) {
    for _x in items {
        let _all = names.clone(); //~
    }
    while false {
        let _n = names.clone(); //~
    }
}
