fn f(buffer: Vec<u8>) {
    std::mem::forget(buffer); //~
}
