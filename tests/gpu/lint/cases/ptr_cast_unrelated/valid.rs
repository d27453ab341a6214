fn f(p: *const u32) -> *const u8 {
    p as *const u32 as *const u8
}
fn g(p: &u32) -> *const u32 { p as *const u32 }
fn h(p: &S) -> *const libc::c_void { p as *const _ as *const libc::c_void }
fn i(p: &S) -> *const sockaddr_nl { p as *const _ as *const sockaddr_nl }
fn as_braced(u: &Uuid) -> &Braced {
    // SAFETY: `Uuid` and `Braced` have the same ABI
    unsafe { &*(u as *const Uuid as *const Braced) }
}
