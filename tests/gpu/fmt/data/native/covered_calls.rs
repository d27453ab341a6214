fn vertical_calls() {
    foo(aaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbb, cccccccccccccccccccc, dddd);
    let x = Foo::<u8>::new(aaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbb, cccccccccccccccccccc, &mut d);
    foo(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b(), ccccccccccccccccccccccccccccccc);
    foo(aaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb);
    foo(aaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb);
}

fn vertical_macros() {
    custom!(Url::from_directory_path(Path::new("../relative")), Errrrrrrrrrrrrrrr(()));
    assert_eq!(Url::from_directory_path(Path::new("../relative")), Errrrrrrrrrrrrrrr(()));
    let x = custom!(Url::from_directory_path(Path::new("../relative")), Errrrrrrrrrrrrrrr(()));
}

fn wide_call() {
    call_something(first_argument_value, second_argument_value, third_argument_value_x);
}

fn tail_call() -> u8 {
    foo(aaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbb, cccccccccccccccccccc, d + 1 + f(x))
}

fn closure_calls() {
    thread::spawn(move || { let x = 1; x });
    pool.install(|| { a(); b(); });
    self.with(|a, b| { a(); b(); });
    let x = foo(aaaa, |a| { a(); b() });
    foo(|a| { a(); });
    scope.spawn(|| { a(); b(); c(); });
    self.inner.spawn(move |x: u8| { a(); b(); c(); })
}
