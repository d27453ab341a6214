/// Reads the value.
///
/// # Safety
/// `p` must be valid for reads.
pub unsafe fn read(p: *const u8) -> u8 {
    *p
}
unsafe fn private(p: *const u8) -> u8 { *p }
