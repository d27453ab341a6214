static mut COUNTER: u32 = 0; //~
pub static mut FLAG: bool = false; //~
