fn host() {
    // SAFETY: test.
    unsafe { rustg::launch(&SAXPY, 4, (32, 64), (2.0f32, &x, &mut y)) }.unwrap(); //~
    let cfg = LaunchConfig::new(4, 2048); //~
}
