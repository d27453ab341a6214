const MAX_THREADS: u32 = 256;
static COUNTER: u32 = 0;
const _: () = ();
