/// Reads the value.
pub unsafe fn read(p: *const u8) -> u8 { //~
    *p
}
