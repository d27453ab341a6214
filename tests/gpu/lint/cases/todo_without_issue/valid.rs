// TODO(#123): handle the empty case
// FIXME: see https://example.com/issues/4
// Todo lists are not TODOs. TODOS neither.
fn f() {}
