fn f() -> u32 {
    1.0f32.to_bits()
}
// transmute(x) mentioned in a comment
