pub fn parse(s: &str) { println!("allowed by default {s}"); }
