fn f(lines: &[&str]) {
    let re = Regex::new(r"\d+").unwrap();
    for line in lines {
        let _ = re.is_match(line);
    }
}
