fn f(p: *const u32) -> *const u8 {
    p as *const u32 as *const u8
}
fn g(p: &u32) -> *const u32 { p as *const u32 }
