pub fn add(a:u32,b:u32)->u32{a+b}
fn empty(){}
pub(crate) unsafe fn raw(p:*const u8)->u8{ *p }
fn body(x: &mut Vec<u8>) -> Option<usize> {
    // the length
    let n=x.len();

    // checked below

    if n==0 {return None;}
    else if n>10 { x.truncate(10); } else { x.push(1) ; }
    for i in 0..n { x[i]+=1; }
    while let Some(v)=x.pop() { if v>3 { break; } }
    let y = unsafe { foo(n) };
    match x.first() { Some(&v) if v>1 => { bar(v); } Some(_) => { baz() } None => return None, }
    Some(n)
}
impl<T: Clone> Point<T> {
    pub fn new(x:T,y:T)->Self{Self{x,y}}

    fn get(&self)->&T{&self.x}
}
impl Drop for Thing { fn drop(&mut self) { unsafe { free(self.ptr) } } }
pub trait Shape: Send + Sync {
    const SIDES: u32;
    type Unit;
    fn area(&self) -> f64;
    fn name(&self) -> String { String::from("shape") }
}
extern "C" {
    fn abs(x: i32) -> i32;
    static errno: i32;
}
impl<T> Wrapper<T> where T: Clone + Send, for<'a> &'a T: IntoIterator {
    fn long_signature(&self, first_argument: usize, second_argument: usize, third: u64) -> u64 {
        let value_with_a_long_name: u64 = first_argument_with_long_name + second_argument_name_x;
        value_with_a_long_name
    }
}
pub const VERY_LONG_CONSTANT_NAME_FOR_TESTING_THE_BREAK: u32 = FIRST_FLAG_VALUE | SECOND_FLAG_VAL;
pub const VERY_LONG_CONSTANT_NAME_FOR_TESTING_THE_BREAK_XX: u32 = FIRST_FLAG_VALUE | SECOND_FLAG_VALUE;
fn long_params(first_argument: *mut c_void, second_argument: usize, third: u32, fourth: u64) -> i32 {
    let value_with_a_long_name_too: u64 = first_argument_with_long_name + second_argument_name_xyz;
    1
}
impl Config {
    fn new(name: String) -> Self {
        let inner = Inner { name: name.clone(), size: 0, ..Default::default() };
        Self { name, inner, verbose: false }
    }
}
fn outer() -> usize { const N: usize = 3; fn inner(x: usize) -> usize { x * 2 } inner(N) }
