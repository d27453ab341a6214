struct Handle(*mut u8);
// SAFETY: the pointer is owned and never shared.
unsafe impl Send for Handle {}
unsafe impl GlobalAlloc for A {}
