fn f(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}
