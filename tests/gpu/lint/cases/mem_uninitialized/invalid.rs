fn f() -> [u8; 16] {
    // SAFETY: none.
    unsafe { std::mem::uninitialized() } //~
}
