use std::mem::ManuallyDrop;
fn f(buffer: Vec<u8>) {
    let _b = ManuallyDrop::new(buffer);
}
