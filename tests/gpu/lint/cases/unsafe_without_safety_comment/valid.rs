fn f(p: *const u32) -> u32 {
    // SAFETY: `p` is valid for reads, the caller said so.
    let v = unsafe { *p };
    let w = unsafe {
        // SAFETY: as above.
        *p
    };
    v + w
}
unsafe fn g() {}
