fn host() {
    let cfg = LaunchConfig::new(4, 256).with_shared_mem_bytes(64 * 1024); //~
}
