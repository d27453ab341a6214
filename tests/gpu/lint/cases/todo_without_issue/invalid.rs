// TODO: handle the empty case //~
fn f() {} /* FIXME later */ //~
