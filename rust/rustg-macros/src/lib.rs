//! The attributes of the rustg kernel dialect: `#[rustg::kernel]`, `#[rustg::device]` and
//! `#[rustg::gpu_test]`. Use them through the `rustg` crate, which re-exports them and provides
//! every path the expansions name (`::rustg::Kernel`, `::rustg::KernelParam`, `::rustg::launch`).
//!
//! Written against `proc_macro` alone: users' projects build offline with no registry, so there
//! is no syn or quote. The parser below understands exactly the shape of a function item, which
//! is all these attributes accept. Misuse becomes a `compile_error!` whose span covers the
//! user's offending tokens (its first token starts the span, its last ends it, which is how a
//! proc macro on stable spans several tokens).
//!
//! What the attributes do on the host (docs/kernel-dialect.md has the full rules):
//! * `#[rustg::kernel]` keeps the function as written, checks it is a kernel (a free, non-generic,
//!   non-async function returning `()` whose parameters are kernel parameters) and adds a launch
//!   handle `const NAME: ::rustg::Kernel<fn(..)>` next to it (the function's name in upper case).
//! * `#[rustg::device]` keeps the function and checks it can run on a GPU (not async, no ABI).
//! * `#[rustg::gpu_test(grid = .., block = ..)]` makes a `#[test]` that runs the body once per
//!   thread of an emulated launch with that shape.
//! * `#[rustg::lint(allow(rule, ..), ..)]`: lint levels for `cargo g lint`; the item is left
//!   as it is.
//!
//! For the GPU, cargo-g extracts the items and compiles them against `rustg-core`; these
//! attributes are stripped there, so nothing here runs for nvptx.

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// Marks a GPU kernel: a function launched over a grid of threads.
///
/// ```ignore
/// #[rustg::kernel]
/// pub fn saxpy(a: f32, x: rustg::Slice<f32>, mut y: rustg::SliceMut<f32>) {
///     let i = rustg::global_idx_x();
///     if i < y.len() {
///         y[i] = a * x[i] + y[i];
///     }
/// }
/// // Generated next to it: `pub const SAXPY: rustg::Kernel<fn(f32, Slice<f32>, SliceMut<f32>)>`.
/// ```
#[proc_macro_attribute]
pub fn kernel(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item_tokens: Vec<TokenTree> = item.clone().into_iter().collect();
    if let Some(first) = attr.into_iter().next() {
        return with_error(
            item,
            Error::at(
                &first,
                "#[rustg::kernel] takes no arguments (launch shapes are chosen at launch)",
            ),
        );
    }
    let func = match FnItem::parse(&item_tokens, "#[rustg::kernel]") {
        Ok(f) => f,
        Err(e) => return with_error(item, e),
    };
    let errors = func.kernel_errors();
    if !errors.is_empty() {
        let mut out = item;
        for e in errors {
            out.extend(e.to_compile_error());
        }
        return out;
    }
    let mut out = item;
    out.extend(func.launch_handle());
    out
}

/// Marks a device function: a helper kernels call, compiled for the GPU with them.
#[proc_macro_attribute]
pub fn device(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item_tokens: Vec<TokenTree> = item.clone().into_iter().collect();
    if let Some(first) = attr.into_iter().next() {
        return with_error(
            item,
            Error::at(&first, "#[rustg::device] takes no arguments"),
        );
    }
    let func = match FnItem::parse(&item_tokens, "#[rustg::device]") {
        Ok(f) => f,
        Err(e) => return with_error(item, e),
    };
    let mut out = item;
    let mut errors = func.common_errors("a device function");
    errors.extend(func.dialect_errors());
    for e in errors {
        out.extend(e.to_compile_error());
    }
    out
}

/// A test whose body runs once per thread of an emulated launch:
///
/// ```ignore
/// #[rustg::gpu_test(grid = 4, block = (8, 8))]
/// fn indices_stay_in_range() {
///     assert!(rustg::thread_idx_x() < rustg::block_dim_x());
/// }
/// ```
///
/// Keys: `block` (required), `grid` (default 1), `shared_mem` (dynamic shared memory bytes per
/// block, default 0). `grid` and `block` take anything `Into<rustg::Dim3>`: `n`, `(x, y)`,
/// `(x, y, z)`. A panic in any thread fails the test with that thread's index and message.
#[proc_macro_attribute]
pub fn gpu_test(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item_tokens: Vec<TokenTree> = item.clone().into_iter().collect();
    let func = match FnItem::parse(&item_tokens, "#[rustg::gpu_test]") {
        Ok(f) => f,
        Err(e) => return with_error(item, e),
    };
    let args = match GpuTestArgs::parse(attr) {
        Ok(a) => a,
        Err(e) => return with_error(item, e),
    };
    let mut errors = func.common_errors("a gpu_test");
    if let Some(g) = &func.generics {
        errors.push(Error::between(g.0, g.1, "a gpu_test cannot be generic"));
    }
    if !func.params.stream().is_empty() {
        errors.push(Error::at_group(
            &func.params,
            "a gpu_test takes no parameters",
        ));
    }
    if let Some(ret) = &func.ret {
        if !is_unit(ret) {
            errors.push(Error::spanning(ret, "a gpu_test returns nothing"));
        }
    }
    if !errors.is_empty() {
        let mut out = item;
        for e in errors {
            out.extend(e.to_compile_error());
        }
        return out;
    }
    func.gpu_test(&args)
}

// --- errors --------------------------------------------------------------------------------------

/// `#[rustg::lint(allow(rule, ..), deny(..), warn(..))]`: rustg lint levels for this item
/// (`cargo g lint` reads them). The stable spelling of `#[allow(rustg::rule)]`, which rustc
/// rejects (E0710) unless the crate enables the nightly `register_tool` feature. Expands to the
/// item unchanged.
///
/// ```ignore
/// #[rustg::lint(allow(gpu_panic))] // a wrong block size must stop the launch, not sum wrongly
/// #[rustg::kernel]
/// pub fn block_sum(input: Slice<f32>, mut partials: SliceMut<f32>) { .. }
/// ```
#[proc_macro_attribute]
pub fn lint(attr: TokenStream, item: TokenStream) -> TokenStream {
    match check_lint_levels(attr) {
        Ok(()) => item,
        Err(e) => with_error(item, e),
    }
}

/// `level(name, ..), ..` with level one of rustc's words; whether each name is a rule is the
/// linter's to say (it reports unknown ones at the name).
fn check_lint_levels(attr: TokenStream) -> Result<(), Error> {
    const USAGE: &str = "expected lint levels: `#[rustg::lint(allow(gpu_panic, f64_in_kernel))]`";
    let tokens: Vec<TokenTree> = attr.into_iter().collect();
    if tokens.is_empty() {
        return Err(Error {
            start: Span::call_site(),
            end: Span::call_site(),
            message: USAGE.to_owned(),
        });
    }
    let mut i = 0;
    while i < tokens.len() {
        let level = match &tokens[i] {
            TokenTree::Ident(word) => word.to_string(),
            other => return Err(Error::at(other, USAGE)),
        };
        if !matches!(
            level.as_str(),
            "allow" | "warn" | "deny" | "forbid" | "expect"
        ) {
            let message =
                format!("`{level}` is not a lint level (allow, warn, deny, forbid, expect)");
            return Err(Error::at(&tokens[i], &message));
        }
        let names = match tokens.get(i + 1) {
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => g,
            _ => return Err(Error::at(&tokens[i], USAGE)),
        };
        let mut expect_name = true;
        for token in names.stream() {
            let ok = match &token {
                TokenTree::Ident(_) => expect_name,
                TokenTree::Punct(p) => !expect_name && p.as_char() == ',',
                _ => false,
            };
            if !ok {
                return Err(Error::at(&token, USAGE));
            }
            expect_name = !expect_name;
        }
        i += 2;
        match tokens.get(i) {
            Some(TokenTree::Punct(p)) if p.as_char() == ',' => i += 1,
            Some(other) => return Err(Error::at(other, USAGE)),
            None => {}
        }
    }
    Ok(())
}

struct Error {
    start: Span,
    end: Span,
    message: String,
}

impl Error {
    fn at(token: &TokenTree, message: &str) -> Error {
        Error {
            start: token.span(),
            end: token.span(),
            message: message.to_owned(),
        }
    }

    fn at_group(group: &Group, message: &str) -> Error {
        Error {
            start: group.span(),
            end: group.span(),
            message: message.to_owned(),
        }
    }

    fn between(start: Span, end: Span, message: &str) -> Error {
        Error {
            start,
            end,
            message: message.to_owned(),
        }
    }

    fn spanning(tokens: &[TokenTree], message: &str) -> Error {
        let start = tokens.first().map_or_else(Span::call_site, TokenTree::span);
        let end = tokens.last().map_or(start, TokenTree::span);
        Error {
            start,
            end,
            message: message.to_owned(),
        }
    }

    /// `::core::compile_error! { "message" }`, spanning start..end: rustc reports a macro call
    /// from the span of its first token to the span of its last.
    fn to_compile_error(&self) -> TokenStream {
        let mut message = Literal::string(&self.message);
        message.set_span(self.end);
        let mut body = Group::new(
            Delimiter::Brace,
            TokenStream::from(TokenTree::Literal(message)),
        );
        body.set_span(self.end);
        tokens([
            punct(':', Spacing::Joint, self.start),
            punct(':', Spacing::Alone, self.start),
            TokenTree::Ident(Ident::new("core", self.start)),
            punct(':', Spacing::Joint, self.start),
            punct(':', Spacing::Alone, self.start),
            TokenTree::Ident(Ident::new("compile_error", self.start)),
            punct('!', Spacing::Alone, self.start),
            TokenTree::Group(body),
        ])
    }
}

fn with_error(item: TokenStream, error: Error) -> TokenStream {
    // The item stays, so its uses elsewhere resolve and the user sees this one error.
    let mut out = item;
    out.extend(error.to_compile_error());
    out
}

// --- a function item -----------------------------------------------------------------------------

struct FnItem {
    /// Outer attributes (`#` + bracket group), doc comments included.
    attrs: Vec<TokenTree>,
    vis: Vec<TokenTree>,
    constness: Option<TokenTree>,
    asyncness: Option<TokenTree>,
    unsafety: Option<TokenTree>,
    /// `extern` and its ABI literal, if any.
    abi: Vec<TokenTree>,
    name: Ident,
    /// Span of `<` and of the matching `>`.
    generics: Option<(Span, Span)>,
    params: Group,
    ret: Option<Vec<TokenTree>>,
    where_clause: Option<Vec<TokenTree>>,
    body: Group,
}

struct Param {
    pattern: Vec<TokenTree>,
    ty: Vec<TokenTree>,
}

fn is_ident(token: Option<&TokenTree>, word: &str) -> bool {
    matches!(token, Some(TokenTree::Ident(i)) if i.to_string() == word)
}

fn is_punct(token: Option<&TokenTree>, ch: char) -> bool {
    matches!(token, Some(TokenTree::Punct(p)) if p.as_char() == ch)
}

impl FnItem {
    fn parse(tokens: &[TokenTree], attribute: &str) -> Result<FnItem, Error> {
        let not_a_fn = |at: &TokenTree| {
            Error::at(
                at,
                &format!("{attribute} applies to functions (`fn name(..) {{ .. }}`)"),
            )
        };
        let mut i = 0;
        let mut attrs = Vec::new();
        while is_punct(tokens.get(i), '#') {
            match tokens.get(i + 1) {
                Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket => {
                    attrs.extend_from_slice(&tokens[i..i + 2]);
                    i += 2;
                }
                _ => return Err(not_a_fn(&tokens[i])),
            }
        }
        let mut vis = Vec::new();
        if is_ident(tokens.get(i), "pub") {
            vis.push(tokens[i].clone());
            i += 1;
            if let Some(TokenTree::Group(g)) = tokens.get(i) {
                if g.delimiter() == Delimiter::Parenthesis {
                    vis.push(tokens[i].clone());
                    i += 1;
                }
            }
        }
        let (mut constness, mut asyncness, mut unsafety, mut abi) = (None, None, None, Vec::new());
        while let Some(token) = tokens.get(i) {
            if is_ident(Some(token), "const") {
                constness = Some(token.clone());
            } else if is_ident(Some(token), "async") {
                asyncness = Some(token.clone());
            } else if is_ident(Some(token), "unsafe") {
                unsafety = Some(token.clone());
            } else if is_ident(Some(token), "extern") {
                abi.push(token.clone());
                if let Some(TokenTree::Literal(lit)) = tokens.get(i + 1) {
                    abi.push(TokenTree::Literal(lit.clone()));
                    i += 1;
                }
            } else {
                break;
            }
            i += 1;
        }
        match tokens.get(i) {
            Some(t) if is_ident(Some(t), "fn") => i += 1,
            Some(t) => return Err(not_a_fn(t)),
            None => {
                return Err(Error::between(
                    Span::call_site(),
                    Span::call_site(),
                    &format!("{attribute} applies to functions"),
                ))
            }
        }
        let name = match tokens.get(i) {
            Some(TokenTree::Ident(name)) => name.clone(),
            Some(t) => return Err(not_a_fn(t)),
            None => return Err(not_a_fn(&tokens[i - 1])),
        };
        i += 1;
        let mut generics = None;
        if is_punct(tokens.get(i), '<') {
            let start = tokens[i].span();
            let mut depth = 0usize;
            let mut end = start;
            while let Some(t) = tokens.get(i) {
                if let TokenTree::Punct(p) = t {
                    match p.as_char() {
                        '<' => depth += 1,
                        '>' if !arrow_before(tokens, i) => depth -= 1,
                        _ => {}
                    }
                }
                i += 1;
                if depth == 0 {
                    end = t.span();
                    break;
                }
            }
            generics = Some((start, end));
        }
        let params = match tokens.get(i) {
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => g.clone(),
            Some(t) => return Err(not_a_fn(t)),
            None => return Err(not_a_fn(&tokens[i - 1])),
        };
        i += 1;
        let mut ret = None;
        if is_punct(tokens.get(i), '-') && is_punct(tokens.get(i + 1), '>') {
            i += 2;
            let start = i;
            while i < tokens.len() && !is_ident(tokens.get(i), "where") && !is_body(&tokens[i]) {
                i += 1;
            }
            ret = Some(tokens[start..i].to_vec());
        }
        let mut where_clause = None;
        if is_ident(tokens.get(i), "where") {
            let start = i;
            while i < tokens.len() && !is_body(&tokens[i]) {
                i += 1;
            }
            where_clause = Some(tokens[start..i].to_vec());
        }
        let body = match tokens.get(i) {
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => g.clone(),
            Some(t) => {
                return Err(Error::at(
                    t,
                    &format!("{attribute} needs a function with a body"),
                ))
            }
            None => {
                return Err(Error::at(
                    &tokens[tokens.len() - 1],
                    &format!("{attribute} needs a function with a body"),
                ))
            }
        };
        if let Some(extra) = tokens.get(i + 1) {
            return Err(Error::at(
                extra,
                "unexpected tokens after the function body",
            ));
        }
        Ok(FnItem {
            attrs,
            vis,
            constness,
            asyncness,
            unsafety,
            abi,
            name,
            generics,
            params,
            ret,
            where_clause,
            body,
        })
    }

    /// Problems that rule a function out of running on a GPU at all.
    fn common_errors(&self, what: &str) -> Vec<Error> {
        let mut errors = Vec::new();
        if let Some(a) = &self.asyncness {
            errors.push(Error::at(
                a,
                &format!("{what} cannot be async: there is no executor on a GPU"),
            ));
        }
        if !self.abi.is_empty() {
            errors.push(Error::spanning(
                &self.abi,
                &format!(
                    "{what} cannot choose its ABI: rustg compiles kernels as `extern \"ptx-kernel\"` \
                     and device functions with the Rust ABI; remove `extern`"
                ),
            ));
        }
        errors
    }

    /// Uses of what exists only on the host (std's heap types, I/O, formatting), found in the
    /// body's tokens. The host build would accept them; reporting them here means `cargo check`
    /// says so at the user's token instead of only the GPU build. Judged by name, so a type of
    /// the user's own called `Vec` would be refused too: the dialect reserves these names.
    fn dialect_errors(&self) -> Vec<Error> {
        let mut errors = Vec::new();
        host_only_uses(self.body.stream(), &mut errors);
        errors
    }

    fn kernel_errors(&self) -> Vec<Error> {
        let mut errors = self.common_errors("a kernel");
        errors.extend(self.dialect_errors());
        if let Some(c) = &self.constness {
            errors.push(Error::at(
                c,
                "a kernel cannot be `const fn`: it only runs when launched",
            ));
        }
        if let Some((start, end)) = self.generics {
            errors.push(Error::between(
                start,
                end,
                "a kernel cannot be generic: each kernel is one symbol in the PTX module; \
                 write a generic #[rustg::device] fn and one kernel per type that calls it",
            ));
        } else if let Some(w) = &self.where_clause {
            errors.push(Error::spanning(w, "a kernel cannot have a where clause"));
        }
        if let Some(ret) = &self.ret {
            if !is_unit(ret) {
                errors.push(Error::spanning(
                    ret,
                    "a kernel returns nothing: write results through a SliceMut or a raw pointer",
                ));
            }
        }
        match self.parse_params() {
            Ok(params) => {
                for p in &params {
                    if let Some(e) = kernel_param_type_error(&p.ty) {
                        errors.push(e);
                    }
                }
            }
            Err(e) => errors.push(e),
        }
        errors
    }

    fn parse_params(&self) -> Result<Vec<Param>, Error> {
        let tokens: Vec<TokenTree> = self.params.stream().into_iter().collect();
        let mut params = Vec::new();
        for chunk in split_top_level_commas(&tokens) {
            if chunk.is_empty() {
                continue;
            }
            let is_self = |t: Option<&TokenTree>| is_ident(t, "self");
            let receiver = is_self(chunk.first())
                || (is_punct(chunk.first(), '&')
                    && (is_self(chunk.get(1)) || is_self(chunk.get(2)) || is_self(chunk.get(3))))
                || (is_ident(chunk.first(), "mut") && is_self(chunk.get(1)));
            if receiver {
                return Err(Error::spanning(
                    chunk,
                    "a kernel is a free function: it cannot take `self`",
                ));
            }
            if is_punct(chunk.first(), '.') {
                return Err(Error::spanning(chunk, "a kernel cannot be variadic"));
            }
            let Some(colon) = type_colon(chunk) else {
                return Err(Error::spanning(chunk, "expected `name: Type`"));
            };
            params.push(Param {
                pattern: chunk[..colon].to_vec(),
                ty: chunk[colon + 1..].to_vec(),
            });
        }
        Ok(params)
    }

    /// `pub const NAME: ::rustg::Kernel<fn(T, ..)> = ...;` and the per-parameter trait checks.
    fn launch_handle(&self) -> TokenStream {
        // parse_params succeeded in kernel_errors before we get here.
        let params = self.parse_params().unwrap_or_default();
        let span = self.name.span();
        let mut fn_type = Vec::new();
        if let Some(u) = &self.unsafety {
            fn_type.push(u.clone());
        }
        fn_type.push(TokenTree::Ident(Ident::new("fn", span)));
        let mut types = TokenStream::new();
        for (n, p) in params.iter().enumerate() {
            if n > 0 {
                types.extend([punct(',', Spacing::Alone, span)]);
            }
            types.extend(p.ty.iter().cloned());
        }
        fn_type.push(TokenTree::Group(Group::new(Delimiter::Parenthesis, types)));
        let fn_type: TokenStream = fn_type.into_iter().collect();

        let mut descriptors = TokenStream::new();
        for p in &params {
            let name = pattern_name(&p.pattern);
            let ty = type_text(&p.ty);
            descriptors.extend(parse(&format!(
                "({}, {}),",
                string_lit(&name),
                string_lit(&ty)
            )));
        }
        let kernel_name = self.name.to_string();
        let const_name = Ident::new(&kernel_name.to_uppercase(), span);
        let vis: TokenStream = self.vis.iter().cloned().collect();
        let doc = format!(
            " Launch handle for the `{kernel_name}` kernel (generated by `#[rustg::kernel]`): pass it \
             to `rustg::launch`, or to `rustg::cuda::Module::launch` with the PTX cargo-g built."
        );
        let mut out = TokenStream::new();
        out.extend(parse(&format!("#[doc = {}]", string_lit(&doc))));
        out.extend(vis);
        out.extend(parse("const"));
        out.extend([
            TokenTree::Ident(const_name),
            punct(':', Spacing::Alone, span),
        ]);
        out.extend(parse("::rustg::Kernel<"));
        out.extend(fn_type.clone());
        out.extend(parse("> = ::rustg::Kernel::__new"));
        let mut args = parse(&format!(
            "{}, ::core::module_path!(),",
            string_lit(&kernel_name)
        ));
        args.extend([TokenTree::Ident(self.name.clone())]);
        args.extend(parse(" as "));
        args.extend(fn_type);
        args.extend(parse(", &"));
        args.extend([TokenTree::Group(Group::new(
            Delimiter::Bracket,
            descriptors,
        ))]);
        out.extend([
            TokenTree::Group(Group::new(Delimiter::Parenthesis, args)),
            punct(';', Spacing::Alone, span),
        ]);

        // One bound check per parameter, spanned on the user's type, so an unsupported type is
        // reported at the parameter (KernelParam's on_unimplemented note says what is allowed).
        let mut checks = TokenStream::new();
        for p in &params {
            let first = p.ty.first().map_or(span, TokenTree::span);
            checks.extend([TokenTree::Ident(Ident::new(
                "__rustg_is_kernel_param",
                first,
            ))]);
            checks.extend(parse("::<"));
            checks.extend(p.ty.iter().cloned());
            checks.extend(parse(">();"));
        }
        let mut inner = parse("fn __rustg_is_kernel_param<T: ::rustg::KernelParam>() {}");
        inner.extend(checks);
        let mut body = parse("#[allow(dead_code)] fn __rustg_check_kernel_params()");
        body.extend([TokenTree::Group(Group::new(Delimiter::Brace, inner))]);
        out.extend(parse("const _: () ="));
        out.extend([
            TokenTree::Group(Group::new(Delimiter::Brace, body)),
            punct(';', Spacing::Alone, span),
        ]);
        out
    }

    fn gpu_test(&self, args: &GpuTestArgs) -> TokenStream {
        let name = self.name.to_string();
        let mut out = TokenStream::new();
        out.extend(parse("#[test]"));
        out.extend(self.attrs.iter().cloned());
        out.extend(self.vis.iter().cloned());
        out.extend(parse("fn"));
        out.extend([TokenTree::Ident(self.name.clone())]);
        out.extend(parse("()"));
        let mut body = parse("#[allow(unused_unsafe)] fn __rustg_gpu_test_body()");
        body.extend([TokenTree::Group(self.body.clone())]);
        body.extend(parse(&format!(
            "let __rustg_kernel = ::rustg::Kernel::<fn()>::__new({}, ::core::module_path!(), \
             __rustg_gpu_test_body as fn(), &[]);",
            string_lit(&name)
        )));
        body.extend(parse("let __rustg_config = ::rustg::LaunchConfig::new"));
        let mut shape = TokenStream::new();
        shape.extend(args.grid.clone().unwrap_or_else(|| parse("1u32")));
        shape.extend([punct(',', Spacing::Alone, Span::call_site())]);
        shape.extend(args.block.clone());
        body.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, shape))]);
        if let Some(shared) = &args.shared_mem {
            body.extend(parse(".with_shared_mem_bytes"));
            body.extend([TokenTree::Group(Group::new(
                Delimiter::Parenthesis,
                shared.clone(),
            ))]);
        }
        body.extend(parse(";"));
        // Safety of the launch: the body takes no arguments, so it touches only memory it owns
        // or that the emulator gives it (shared memory, its thread index).
        body.extend(parse(&format!(
            "if let ::core::result::Result::Err(__rustg_error) = unsafe {{ \
             ::rustg::launch_with(&__rustg_kernel, __rustg_config, ()) }} {{ \
             ::core::panic!(\"gpu_test `{{}}` failed: {{}}\", {}, __rustg_error); }}",
            string_lit(&name)
        )));
        out.extend([TokenTree::Group(Group::new(Delimiter::Brace, body))]);
        out
    }
}

/// Types that need an allocator or an OS, which GPU code has neither of.
const HOST_TYPES: &[&str] = &[
    "Vec",
    "String",
    "Box",
    "Rc",
    "Arc",
    "HashMap",
    "HashSet",
    "BTreeMap",
    "BTreeSet",
    "VecDeque",
    "BinaryHeap",
    "Mutex",
    "RwLock",
    "Cell",
    "RefCell",
];
/// Macros that format, print or allocate.
const HOST_MACROS: &[&str] = &[
    "println",
    "print",
    "eprintln",
    "eprint",
    "format",
    "format_args",
    "write",
    "writeln",
    "vec",
    "dbg",
    "thread_local",
];
/// `std::` modules with nothing in rustg-core (which answers for `std::` paths on the GPU).
const HOST_MODULES: &[&str] = &[
    "io",
    "fs",
    "thread",
    "sync",
    "collections",
    "vec",
    "string",
    "boxed",
    "rc",
    "cell",
    "env",
    "process",
    "net",
    "time",
    "fmt",
    "alloc",
    "os",
    "path",
    "ffi",
];

fn host_only_uses(stream: TokenStream, errors: &mut Vec<Error>) {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Group(g) => host_only_uses(g.stream(), errors),
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                let next = tokens.get(i + 1);
                let path_start = is_punct(next, ':') && is_punct(tokens.get(i + 2), ':');
                if HOST_MACROS.contains(&name.as_str()) && is_punct(next, '!') {
                    errors.push(Error::between(
                        token.span(),
                        next.map_or(token.span(), TokenTree::span),
                        &format!(
                            "`{name}!` is not available in GPU code: there is no formatting, \
                             allocation or I/O on the device (docs/kernel-dialect.md)"
                        ),
                    ));
                } else if HOST_TYPES.contains(&name.as_str()) {
                    errors.push(Error::at(
                        token,
                        &format!(
                            "`{name}` is not available in GPU code: kernels have no allocator; \
                             take memory as a rustg::Slice/SliceMut parameter or use a \
                             rustg::shared_array! (docs/kernel-dialect.md)"
                        ),
                    ));
                } else if (name == "std" || name == "alloc") && path_start {
                    if let Some(TokenTree::Ident(module)) = tokens.get(i + 3) {
                        let module_name = module.to_string();
                        if HOST_MODULES.contains(&module_name.as_str()) {
                            errors.push(Error::between(
                                token.span(),
                                module.span(),
                                &format!(
                                    "`{name}::{module_name}` is not available in GPU code \
                                     (docs/kernel-dialect.md lists what is)"
                                ),
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// True when the `>` at `i` closes `->` rather than a generic list.
fn arrow_before(tokens: &[TokenTree], i: usize) -> bool {
    i > 0
        && matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == '-' && p.spacing() == Spacing::Joint)
}

fn is_body(token: &TokenTree) -> bool {
    matches!(token, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace)
}

fn is_unit(ret: &[TokenTree]) -> bool {
    matches!(ret, [TokenTree::Group(g)] if g.delimiter() == Delimiter::Parenthesis && g.stream().is_empty())
}

/// Splits at commas outside `<..>` (parentheses and brackets are already groups).
fn split_top_level_commas(tokens: &[TokenTree]) -> Vec<&[TokenTree]> {
    let mut chunks = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        if let TokenTree::Punct(p) = t {
            match p.as_char() {
                '<' => depth += 1,
                '>' if !arrow_before(tokens, i) => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    chunks.push(&tokens[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
    }
    chunks.push(&tokens[start..]);
    chunks
}

/// The index of the `:` between a parameter's pattern and its type (not half of a `::`).
fn type_colon(chunk: &[TokenTree]) -> Option<usize> {
    let mut i = 0;
    while i < chunk.len() {
        if let TokenTree::Punct(p) = &chunk[i] {
            if p.as_char() == ':' {
                if p.spacing() == Spacing::Joint && is_punct(chunk.get(i + 1), ':') {
                    i += 2;
                    continue;
                }
                return Some(i);
            }
        }
        i += 1;
    }
    None
}

/// Why a parameter type cannot be a kernel parameter, judged from its syntax. Paths pass here and
/// meet the `KernelParam` bound instead.
fn kernel_param_type_error(ty: &[TokenTree]) -> Option<Error> {
    let Some(first) = ty.first() else {
        return Some(Error::between(
            Span::call_site(),
            Span::call_site(),
            "missing parameter type",
        ));
    };
    let message = match first {
        TokenTree::Punct(p) if p.as_char() == '&' => {
            "a kernel parameter cannot be a reference: on the GPU it would point into host memory; \
             take a rustg::Slice<T> / rustg::SliceMut<T>, or a raw pointer"
        }
        TokenTree::Punct(p) if p.as_char() == '!' => "`!` is not a kernel parameter type",
        TokenTree::Punct(p) if p.as_char() == '*' => return None,
        TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis => {
            "a tuple is not a kernel parameter: use separate parameters or a #[repr(C)] struct"
        }
        TokenTree::Group(g) if g.delimiter() == Delimiter::Bracket => {
            "arrays and slices are not passed by value to kernels: take a rustg::Slice<T> / \
             rustg::SliceMut<T> (or a #[repr(C)] struct holding a small array)"
        }
        TokenTree::Ident(i) => match i.to_string().as_str() {
            "impl" | "dyn" => "a kernel parameter must be a concrete type",
            "fn" | "unsafe" | "extern" => {
                "function pointers are not kernel parameters: a host function cannot run on the GPU"
            }
            "_" => "write the parameter type out",
            _ => return None,
        },
        _ => return None,
    };
    Some(Error::spanning(ty, message))
}

/// The binding name of a simple pattern (`x`, `mut x`), else the pattern's text.
fn pattern_name(pattern: &[TokenTree]) -> String {
    match pattern {
        [TokenTree::Ident(i)] => i.to_string(),
        [TokenTree::Ident(m), TokenTree::Ident(i)] if m.to_string() == "mut" => i.to_string(),
        _ => type_text(pattern),
    }
}

/// Tokens as compact text: `Slice<f32>`, `*mut u32`, `rustg::SliceMut<u32>`.
fn type_text(tokens: &[TokenTree]) -> String {
    let mut text = String::new();
    for (i, t) in tokens.iter().enumerate() {
        let s = match t {
            TokenTree::Group(g) => {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                format!("{open}{}{close}", type_text(&inner))
            }
            other => other.to_string(),
        };
        let needs_space = i > 0
            && matches!(t, TokenTree::Ident(_) | TokenTree::Literal(_))
            && matches!(&tokens[i - 1], TokenTree::Ident(_) | TokenTree::Literal(_));
        let after_separator = i > 0
            && matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == ',' || p.as_char() == ';');
        if needs_space || after_separator {
            text.push(' ');
        }
        text.push_str(&s);
    }
    text
}

// --- gpu_test arguments --------------------------------------------------------------------------

struct GpuTestArgs {
    grid: Option<TokenStream>,
    block: TokenStream,
    shared_mem: Option<TokenStream>,
}

impl GpuTestArgs {
    fn parse(attr: TokenStream) -> Result<GpuTestArgs, Error> {
        let tokens: Vec<TokenTree> = attr.into_iter().collect();
        let (mut grid, mut block, mut shared_mem) = (None, None, None);
        for chunk in split_top_level_commas(&tokens) {
            if chunk.is_empty() {
                continue;
            }
            let key = match (&chunk[0], chunk.get(1)) {
                (TokenTree::Ident(key), Some(TokenTree::Punct(eq))) if eq.as_char() == '=' => key,
                _ => {
                    return Err(Error::spanning(
                        chunk,
                        "expected `key = value` (keys: grid, block, shared_mem)",
                    ))
                }
            };
            if chunk.len() < 3 {
                return Err(Error::spanning(chunk, "missing value after `=`"));
            }
            let value: TokenStream = chunk[2..].iter().cloned().collect();
            let slot = match key.to_string().as_str() {
                "grid" => &mut grid,
                "block" => &mut block,
                "shared_mem" => &mut shared_mem,
                other => {
                    return Err(Error::at(
                        &chunk[0],
                        &format!("unknown gpu_test key `{other}` (keys: grid, block, shared_mem)"),
                    ))
                }
            };
            if slot.is_some() {
                return Err(Error::at(&chunk[0], &format!("`{key}` is given twice")));
            }
            *slot = Some(value);
        }
        let Some(block) = block else {
            return Err(Error::between(
                Span::call_site(),
                Span::call_site(),
                "#[rustg::gpu_test] needs `block = ..` (threads per block), e.g. \
                 #[rustg::gpu_test(grid = 2, block = 64)]",
            ));
        };
        Ok(GpuTestArgs {
            grid,
            block,
            shared_mem,
        })
    }
}

// --- token helpers -------------------------------------------------------------------------------

fn punct(ch: char, spacing: Spacing, span: Span) -> TokenTree {
    let mut p = Punct::new(ch, spacing);
    p.set_span(span);
    TokenTree::Punct(p)
}

fn tokens<const N: usize>(list: [TokenTree; N]) -> TokenStream {
    list.into_iter().collect()
}

fn string_lit(s: &str) -> String {
    Literal::string(s).to_string()
}

/// Fixed generated text. It is our own well-formed Rust, so a parse failure is a bug here.
fn parse(source: &str) -> TokenStream {
    source
        .parse()
        .expect("rustg-macros generated text that does not tokenize")
}
