static PROMOTABLE_ODD_VTABLE: Vtable = Vtable { clone: promotable_odd_clone, to_vec: promotable_odd_to_vec, drop: promotable_odd_drop };
impl<T> Slot<T> {
    const UNINIT: Self = Self { msg: UnsafeCell::new(MaybeUninit::uninit()), state: AtomicUsize::new(0) };
}
fn new() -> Self {
    Channel { head: CachePadded::new(Position { block: AtomicPtr::new(ptr::null_mut()), index: AtomicUsize::new(0) }), tail: 1 }
}
fn new2() -> Self {
    let response = PushedResponseFuture { inner: ResponseFuture { inner: response, push_promise_consumed: false }, x };
}
fn new3() -> Self {
    let response = PushedResponseFuture { inner: ResponseFuture { inner: response, push_promise_consumed: false }, x: Foo { a: 1 } };
}
fn new4() -> Self {
    let response = PushedResponseFuture { inner: ResponseFuture { inner: response, push_promise_consumed: false }, xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx: Foo { aaaaaaa: 1, bbbbbbbbbbbbb: 2 } };
}
fn new5() -> Self {
    let response = PushedResponseFuture { inner: ResponseFuture { inner: response, push_promise_consumed: false }, xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx: Foo { aaaaaaa: 1, bbbbbbbbbbbbb: 2 } };
}
fn nested_literal_first_line_at_99() {
    let r = P { i: R { inner: response, push_promise_consumed: false }, xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx: Foo { aaaaaaa: 1, bbbbbbbbbbbbb: 2 } };
}
