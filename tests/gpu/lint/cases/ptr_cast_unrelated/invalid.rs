fn f(p: *const u32) -> *const f64 {
    p as *const u32 as *const f64 //~
}
fn g(p: *const libc::sockaddr) -> *const libc::sockaddr_nl {
    p as *const libc::sockaddr as *const libc::sockaddr_nl //~
}
