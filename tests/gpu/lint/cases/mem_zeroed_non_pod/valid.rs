fn f() {
    // SAFETY: all-zero is a valid [u32; 4].
    let a: [u32; 4] = unsafe { std::mem::zeroed() };
    // SAFETY: same.
    let x = unsafe { std::mem::zeroed::<u64>() };
}
