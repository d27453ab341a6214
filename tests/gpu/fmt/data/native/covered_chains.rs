fn chains() {
    let v = items.iter().filter(|x| x.is_some()).map(|x| x.unwrap()).collect::<Vec<_>>();
    self.inner.lock().unwrap().insert(aaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbb);
    x.a.b().cccccccccccccccccccccccccccccccccccccccccccc().dddddddddddddddddddddddddddd();
    let x = Foo::new(aaaaaaaa).with_bbbbbbbbbbbbbbbbbbbb(1).with_cccccccccccccccccccccccccc(2).build();
    items.iter().filter(|x| x.is_some()).map(|x| x.unwrap()).collect::<Vec<_>>()
}

async fn awaited() -> Result<(), Error> {
    let response = client.get(url).header("x", "y").send().await?.error_for_status()?;
    Ok(())
}
