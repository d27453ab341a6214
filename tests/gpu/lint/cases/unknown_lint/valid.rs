#[allow(rustg::fn_naming, clippy::all, dead_code)]
fn F() {}
#[allow(rustg::style)]
fn G() {}
