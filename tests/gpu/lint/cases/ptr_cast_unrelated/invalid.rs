fn f(p: *const u32) -> *const f64 {
    p as *const u32 as *const f64 //~
}
