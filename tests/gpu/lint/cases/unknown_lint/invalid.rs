#[allow(rustg::fn_namng)] //~
fn f() {}
// rustg-lint: allow(no_such_rule) //~
fn g() {}
