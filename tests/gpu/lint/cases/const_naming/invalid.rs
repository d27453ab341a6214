const maxThreads: u32 = 256; //~
static counter: u32 = 0; //~
