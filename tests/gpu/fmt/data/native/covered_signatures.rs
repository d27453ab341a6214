extern "C" fn test_sigaction_action(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {}
extern "C" fn test_sigaction_actionx(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {}
extern "C" fn test_sigaction_actio(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {}
pub fn visit_angle_bracketed_generic_arguments<'ast, V>(v: &mut V, node: &'ast AngleBracketedGenericArguments) where V: Visit<'ast> + ?Sized { body(); }
pub fn visit_angle_bracketed_generic_arguments<'ast, V>(v: &mut V, node: &'ast AngleBracketedGenericArguments) -> u8 where V: Visit<'ast> + ?Sized { body() }
pub fn visit_angle_bracketed_generic_arguments<'ast, V>(v: &mut V, node: &'ast AngleBracketedGenericArguments) where V: Visit<'ast> + ?Sized {}
fn foo<T>(aaaaaaaaaaaaaaaaaaaaaaa: T, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb: u8, c: u16) -> R where T: X { body() }
fn foo<T>(aaaaaaaaaaaaaaaaaaaaaaa: T, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb: u8, c: u16) -> R where T: X {}
fn foo(aaaaaaaaaaaaaaaaaaaaaaa: T, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb: u8, c: u16) -> R {}
fn foo(aaaaaaaaaaaaaaaaaaaaaaa: T, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb: u8, c: u16) {}
fn foo<T>(aaaaaaaaaaaaaaa: T) -> Rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr where T: Xxxxxxxxxxxxxxx { body() }
impl X {
    fn foo<T>(&self, aaaaaaaaaaaaaaaaaaa: T, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb: u8) -> R where T: X {
        body()
    }
    fn bar(&self, aaaaaaaaaaaaaaaaaaaaaaaaaa: T, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb: u8) {}
}
