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

fn method_and_macro_calls() -> Result<(), E> {
    assert!(xxxxxxxxxxxxxxxxxxxxxxx.is_ok(), "a long message that goes on and on and on and on");
    self.foo(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb);
    recv_long.foo(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb);
    self.inner.foo(aaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb);
    let x = recv_long.foo(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb);
    let y = foo(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb)?;
    foo(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb)?;
    recv_long.foo(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb)?;
    assert_eq!(edge.source(), iiiiiiiiiiiiiiiiiii, "outgoing edges should have a fixed source");
    Ok(())
}

fn async_blocks_and_chains() {
    rt.block_on(async { let x = 1; x.await; });
    let t1 = tokio::spawn(async move { a().await; b() });
    timeout(Duration::from_millis(1u64), async move { a().await; b().await; });
    tokio::spawn(async { a().await; });
    items.iter().for_each(|x| { a(); b(); c(); });
    let x = items.iter().map(|x| { a(); b(); c() });
    let y = pool.install(|| { a(); b(); c() });
}

fn struct_literal_arguments() -> Result<Self, E> {
    let x = Box::new(Foo { first: 1, second: 2, third: 3 });
    v.push(1);
    Some(Foo { first: 1, second: 2, third: 3, ..Default::default() });
    Ok(Self { first: 1, second: 2, third: 3 })
}
fn struct_literal_tail() -> Option<Self> {
    Some(Self { first: 1, second: 2, third: 3 })
}

fn closure_call_as_a_chain_parent() {
    scope(|scope| { a(); b(); }).unwrap();
    crossbeam::scope(|scope| { a(); b(); }).unwrap().foo();
    let x = scope(|scope| { a(); b() }).unwrap();
    thread::spawn(move || { a(); }).join().unwrap();
}

fn empty_bracket_macros() -> Vec<Vec<u8>> { let a: Vec<u8> = vec![ ]; let b = m![  ]; g(vec![ ], std::vec![]); vec![vec![ ]; 3] }

fn macro_trailing_commas(a: u32, b: u32) { assert_eq!(a, b,); m!(a, b, ); let v = vec![1, 2,]; println!("{}", a,); g(m!(a, b,), 1); m!(aaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb,); m!(aaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb,); m!(aaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb); }

fn closure_bodies_with_unprintable_first_statements() {
    scope(|s| { for _ in 0..THREADS { s.spawn(|_| { for _ in 0..STEPS { let g = pin(); } }); } }).unwrap();
    b.iter(|| { scope(|s| { let x = 1; x }).unwrap(); });
    foo(|x| { while x { a(); } });
    foo(|x| { for i in x { a() } });
}
