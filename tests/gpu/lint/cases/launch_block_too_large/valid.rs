fn host(n: u32) {
    // SAFETY: test.
    unsafe { rustg::launch(&SAXPY, 4, 256, (2.0f32, &x, &mut y)) }.unwrap();
    let cfg = LaunchConfig::new(4, (16, 16, 4));
    let dynamic = LaunchConfig::new(4, n);
    let v = Vec::new();
}
