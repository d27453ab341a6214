fn compute_sum(x: u32) -> u32 { x }
impl std::fmt::Display for S {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { Ok(()) }
}
#[no_mangle]
pub extern "C" fn ExportedName() {}
extern "C" { fn CamelImport(); }
