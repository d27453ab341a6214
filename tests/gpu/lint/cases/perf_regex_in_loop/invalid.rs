fn f(lines: &[&str]) {
    for line in lines {
        let re = Regex::new(r"\d+").unwrap(); //~
    }
}
