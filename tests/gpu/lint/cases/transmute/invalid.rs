fn f() -> u32 {
    // SAFETY: same size.
    unsafe { std::mem::transmute(1.0f32) } //~
}
fn g() -> u32 {
    // SAFETY: same size.
    unsafe { core::mem::transmute::<f32, u32>(1.0) } //~
}
