use std::fmt::Write;
fn f(s: &mut String, x: u32) {
    write!(s, "{x},").unwrap();
    s.push_str("literal");
}
