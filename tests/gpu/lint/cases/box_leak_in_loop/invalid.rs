fn f(names: Vec<String>) {
    for name in names {
        let _s: &'static str = Box::leak(name.into_boxed_str()); //~
    }
}
