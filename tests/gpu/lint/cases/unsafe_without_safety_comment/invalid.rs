fn f(p: *const u32) -> u32 {
    let v = unsafe { *p }; //~
    v + unsafe { *p } //~
}
