use std::mem::MaybeUninit;
fn f() -> MaybeUninit<[u8; 16]> {
    MaybeUninit::uninit()
}
fn g(b: &Builder) { b.uninitialized(); }
