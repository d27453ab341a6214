fn host(n: usize) {
    let cfg = LaunchConfig::new(4, 256).with_shared_mem_bytes(16 * 1024);
    let c2 = LaunchConfig::new(4, 256).with_shared_mem_bytes(n * 4);
}
