fn f(s: &mut String, x: u32) {
    s.push_str(&format!("{x},")); //~
}
