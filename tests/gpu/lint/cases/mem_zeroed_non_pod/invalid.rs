fn f() {
    // SAFETY: none.
    let r: &u32 = unsafe { std::mem::zeroed() }; //~
    // SAFETY: none.
    let b = unsafe { std::mem::zeroed::<Box<u8>>() }; //~
}
