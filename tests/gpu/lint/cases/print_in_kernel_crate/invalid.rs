// rustg-lint: warn(print_in_kernel_crate)
pub fn parse(s: &str) { println!("parsing {s}"); } //~
