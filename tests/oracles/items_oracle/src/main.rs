//! items_oracle: syn 1.0's view of the items of Rust source files, as JSON lines.
//!
//! Usage: `items_oracle FILE...` or `items_oracle -` (paths on stdin, one per line).
//! Prints one JSON object per file, in input order:
//!
//! ```text
//! {"file":"a.rs","ok":true,"items":[{"kind":"fn","name":"main","path":"main",...}, ...]}
//! {"file":"b.rs","ok":false,"error":"expected `;`","line":3,"col":5}
//! ```
//!
//! Each item has `kind` (fn struct enum union trait impl mod use const static type macro_rules
//! extern_block extern_crate), `name`, `path` (enclosing item names joined by `::`, ending with
//! its own), `depth` (number of enclosing items), `in_body` (true when it sits inside a fn body
//! or another expression), `vis`, `attrs` (outer attribute paths; doc comments show as `doc`),
//! and two spans, lines and columns 1-based, columns in Unicode scalar values, end exclusive:
//! `span` = syn's own span of the item, which starts at its first outer attribute or doc
//! comment, and `head` = the span with the outer attributes removed (starts at `pub`/keyword).
//!
//! What is listed (decided here, mirrored by rustg's item index):
//! * every `syn::Item` of the kinds above, recursively: inside inline `mod`s, inside fn bodies
//!   and other expressions (syn parses bodies fully, so `fn f() { struct S; }` lists `S`),
//! * associated items of `impl` and `trait` blocks (fn, const, type),
//! * foreign items of `extern` blocks (fn, static, type),
//! * `macro_rules! name { ... }` as kind `macro_rules`; no other macro invocation is listed and
//!   nothing inside any macro invocation's tokens is seen (syn does not parse them),
//! * `Item::Verbatim`, `Item::Macro2` (`macro`), `Item::TraitAlias` and `*::Verbatim` are
//!   unstable or unparsed syntax: they are skipped.
//!
//! Names: an `impl` is named by its self type (compacted token text, e.g. `Vec<T>`) and carries
//! `trait_` (the implemented trait's text, or ""); a `use` is named by its tree text; an
//! `extern` block by its ABI string (`"C"` → `C`, none → ""); `extern crate a as b` by `a`.
//! An `extern` block adds no segment to the paths of its foreign items.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use std::fmt::Write as _;
use std::io::{BufRead, Write};
use syn::spanned::Spanned;
use syn::visit::{self, Visit};

struct Item {
    kind: &'static str,
    name: String,
    path: String,
    depth: usize,
    in_body: bool,
    vis: String,
    attrs: Vec<String>,
    trait_: Option<String>,
    span: Span,
    head: Span,
}

#[derive(Default)]
struct Collector {
    stack: Vec<String>,
    body_depth: usize,
    items: Vec<Item>,
}

/// Token text with the spaces `quote` puts between all tokens removed, except between two
/// word characters (`dyn Trait`, `'a mut`): `Vec < T >` → `Vec<T>`. rustg joins its token
/// texts by the same rule, so the two sides compare equal.
fn text<T: ToTokens>(t: &T) -> String {
    let s = t.to_token_stream().to_string();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let before = out.chars().last();
            let after = chars.get(i + 1).copied();
            if let (Some(b), Some(a)) = (before, after) {
                if word(b) && word(a) {
                    out.push(' ');
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

fn vis_text(v: &syn::Visibility) -> String {
    match v {
        syn::Visibility::Public(_) => "pub".into(),
        syn::Visibility::Crate(_) => "crate".into(),
        syn::Visibility::Restricted(r) => {
            let path = text(&*r.path);
            if r.in_token.is_some() {
                format!("pub(in {path})")
            } else {
                format!("pub({path})")
            }
        }
        syn::Visibility::Inherited => String::new(),
    }
}

fn outer_attr_paths(attrs: &[syn::Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|a| matches!(a.style, syn::AttrStyle::Outer))
        .map(|a| text(&a.path))
        .collect()
}

fn has_outer(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| matches!(a.style, syn::AttrStyle::Outer))
}

/// The span of `node` printed without its outer attributes (inner ones stay: they sit
/// inside the braces and do not move the start).
fn head_span<T: Clone + ToTokens>(node: &T, strip: impl FnOnce(&mut T)) -> Span {
    let mut copy = node.clone();
    strip(&mut copy);
    copy.span()
}

fn keep_inner(attrs: &mut Vec<syn::Attribute>) {
    attrs.retain(|a| !matches!(a.style, syn::AttrStyle::Outer));
}

impl Collector {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        kind: &'static str,
        name: String,
        vis: &syn::Visibility,
        attrs: &[syn::Attribute],
        trait_: Option<String>,
        span: Span,
        head: Span,
    ) {
        let mut path = self.stack.join("::");
        if !path.is_empty() {
            path.push_str("::");
        }
        path.push_str(&name);
        self.items.push(Item {
            kind,
            name,
            path,
            depth: self.stack.len(),
            in_body: self.body_depth > 0,
            vis: vis_text(vis),
            attrs: outer_attr_paths(attrs),
            trait_,
            span,
            head,
        });
    }
}

macro_rules! record {
    ($self:ident, $node:expr, $kind:expr, $name:expr, $vis:expr, $trait_:expr) => {{
        let node = $node;
        let head = if has_outer(&node.attrs) {
            head_span(node, |c| keep_inner(&mut c.attrs))
        } else {
            node.span()
        };
        $self.push($kind, $name, $vis, &node.attrs, $trait_, node.span(), head);
    }};
}

const INHERITED: syn::Visibility = syn::Visibility::Inherited;

impl<'ast> Visit<'ast> for Collector {
    fn visit_item(&mut self, i: &'ast syn::Item) {
        let name = match i {
            syn::Item::Const(n) => {
                record!(self, n, "const", n.ident.to_string(), &n.vis, None);
                n.ident.to_string()
            }
            syn::Item::Enum(n) => {
                record!(self, n, "enum", n.ident.to_string(), &n.vis, None);
                n.ident.to_string()
            }
            syn::Item::ExternCrate(n) => {
                record!(self, n, "extern_crate", n.ident.to_string(), &n.vis, None);
                n.ident.to_string()
            }
            syn::Item::Fn(n) => {
                record!(self, n, "fn", n.sig.ident.to_string(), &n.vis, None);
                n.sig.ident.to_string()
            }
            syn::Item::ForeignMod(n) => {
                let abi = n.abi.name.as_ref().map(|s| s.value()).unwrap_or_default();
                record!(self, n, "extern_block", abi, &INHERITED, None);
                // Foreign items live in the enclosing module's namespace: no path segment.
                visit::visit_item(self, i);
                return;
            }
            syn::Item::Impl(n) => {
                let self_ty = text(&*n.self_ty);
                let trait_ = n.trait_.as_ref().map(|(bang, p, _)| {
                    format!("{}{}", if bang.is_some() { "!" } else { "" }, text(p))
                });
                record!(self, n, "impl", self_ty.clone(), &INHERITED, Some(trait_.unwrap_or_default()));
                self_ty
            }
            syn::Item::Macro(n) => match &n.ident {
                Some(id) if n.mac.path.is_ident("macro_rules") => {
                    record!(self, n, "macro_rules", id.to_string(), &INHERITED, None);
                    // Nothing inside a macro's tokens is syntax to syn: do not descend.
                    return;
                }
                _ => return,
            },
            syn::Item::Mod(n) => {
                record!(self, n, "mod", n.ident.to_string(), &n.vis, None);
                n.ident.to_string()
            }
            syn::Item::Static(n) => {
                record!(self, n, "static", n.ident.to_string(), &n.vis, None);
                n.ident.to_string()
            }
            syn::Item::Struct(n) => {
                record!(self, n, "struct", n.ident.to_string(), &n.vis, None);
                n.ident.to_string()
            }
            syn::Item::Trait(n) => {
                record!(self, n, "trait", n.ident.to_string(), &n.vis, None);
                n.ident.to_string()
            }
            syn::Item::Type(n) => {
                record!(self, n, "type", n.ident.to_string(), &n.vis, None);
                n.ident.to_string()
            }
            syn::Item::Union(n) => {
                record!(self, n, "union", n.ident.to_string(), &n.vis, None);
                n.ident.to_string()
            }
            syn::Item::Use(n) => {
                let lead = if n.leading_colon.is_some() { "::" } else { "" };
                record!(self, n, "use", format!("{lead}{}", text(&n.tree)), &n.vis, None);
                return;
            }
            _ => return,
        };
        self.stack.push(name);
        visit::visit_item(self, i);
        self.stack.pop();
    }

    fn visit_impl_item(&mut self, i: &'ast syn::ImplItem) {
        let name = match i {
            syn::ImplItem::Const(n) => {
                record!(self, n, "const", n.ident.to_string(), &n.vis, None);
                n.ident.to_string()
            }
            syn::ImplItem::Method(n) => {
                record!(self, n, "fn", n.sig.ident.to_string(), &n.vis, None);
                n.sig.ident.to_string()
            }
            syn::ImplItem::Type(n) => {
                record!(self, n, "type", n.ident.to_string(), &n.vis, None);
                n.ident.to_string()
            }
            _ => return,
        };
        self.stack.push(name);
        visit::visit_impl_item(self, i);
        self.stack.pop();
    }

    fn visit_trait_item(&mut self, i: &'ast syn::TraitItem) {
        let name = match i {
            syn::TraitItem::Const(n) => {
                record!(self, n, "const", n.ident.to_string(), &INHERITED, None);
                n.ident.to_string()
            }
            syn::TraitItem::Method(n) => {
                record!(self, n, "fn", n.sig.ident.to_string(), &INHERITED, None);
                n.sig.ident.to_string()
            }
            syn::TraitItem::Type(n) => {
                record!(self, n, "type", n.ident.to_string(), &INHERITED, None);
                n.ident.to_string()
            }
            _ => return,
        };
        self.stack.push(name);
        visit::visit_trait_item(self, i);
        self.stack.pop();
    }

    fn visit_foreign_item(&mut self, i: &'ast syn::ForeignItem) {
        let name = match i {
            syn::ForeignItem::Fn(n) => {
                record!(self, n, "fn", n.sig.ident.to_string(), &n.vis, None);
                n.sig.ident.to_string()
            }
            syn::ForeignItem::Static(n) => {
                record!(self, n, "static", n.ident.to_string(), &n.vis, None);
                n.ident.to_string()
            }
            syn::ForeignItem::Type(n) => {
                record!(self, n, "type", n.ident.to_string(), &n.vis, None);
                n.ident.to_string()
            }
            _ => return,
        };
        self.stack.push(name);
        visit::visit_foreign_item(self, i);
        self.stack.pop();
    }

    // Everything reached through a block or an expression is "in a body".
    fn visit_block(&mut self, b: &'ast syn::Block) {
        self.body_depth += 1;
        visit::visit_block(self, b);
        self.body_depth -= 1;
    }

    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        self.body_depth += 1;
        visit::visit_expr(self, e);
        self.body_depth -= 1;
    }

    // Macro tokens are opaque to syn; keep it that way explicitly.
    fn visit_macro(&mut self, _m: &'ast syn::Macro) {}
}

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_span(out: &mut String, key: &str, s: Span) {
    let (a, b) = (s.start(), s.end());
    let _ = write!(
        out,
        ",\"{key}\":[{},{},{},{}]",
        a.line,
        a.column + 1,
        b.line,
        b.column + 1
    );
}

/// Blank out a BOM and a shebang line with the same number of characters, so that syn sees
/// neither (as `syn::parse_file` would strip them) while every position stays where it is.
fn neutralize_prefix(src: &str) -> String {
    let mut s = String::with_capacity(src.len());
    let mut rest = src;
    if let Some(r) = rest.strip_prefix('\u{feff}') {
        s.push(' ');
        rest = r;
    }
    if let Some(after) = rest.strip_prefix("#!") {
        let trimmed = after.trim_start();
        // `#![attr]` is an inner attribute, not a shebang (the same test as syn::parse_file).
        if !trimmed.starts_with('[') {
            let end = rest.find('\n').unwrap_or(rest.len());
            s.extend(rest[..end].chars().map(|_| ' '));
            rest = &rest[end..];
        }
    }
    s.push_str(rest);
    s
}

fn one_file(path: &str) -> String {
    let mut out = String::new();
    out.push_str("{\"file\":");
    json_str(&mut out, path);
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            out.push_str(",\"ok\":false,\"error\":");
            json_str(&mut out, &format!("read: {e}"));
            out.push_str(",\"line\":0,\"col\":0}");
            return out;
        }
    };
    let src = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            out.push_str(",\"ok\":false,\"error\":");
            json_str(&mut out, &format!("invalid UTF-8: {e}"));
            out.push_str(",\"line\":0,\"col\":0}");
            return out;
        }
    };
    let src = neutralize_prefix(&src);
    let parsed = std::panic::catch_unwind(|| {
        let ts: TokenStream = src.parse().map_err(|e| format!("lex: {e:?}"))?;
        let file: syn::File = syn::parse2(ts).map_err(|e| {
            let at = e.span().start();
            format!("{}\u{0}{}\u{0}{}", e, at.line, at.column + 1)
        })?;
        let mut c = Collector::default();
        c.visit_file(&file);
        Ok::<_, String>(c.items)
    });
    match parsed {
        Ok(Ok(items)) => {
            out.push_str(",\"ok\":true,\"items\":[");
            for (n, it) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str("{\"kind\":");
                json_str(&mut out, it.kind);
                out.push_str(",\"name\":");
                json_str(&mut out, &it.name);
                out.push_str(",\"path\":");
                json_str(&mut out, &it.path);
                let _ = write!(out, ",\"depth\":{},\"in_body\":{}", it.depth, it.in_body);
                out.push_str(",\"vis\":");
                json_str(&mut out, &it.vis);
                out.push_str(",\"attrs\":[");
                for (k, a) in it.attrs.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    json_str(&mut out, a);
                }
                out.push(']');
                if let Some(t) = &it.trait_ {
                    out.push_str(",\"trait_\":");
                    json_str(&mut out, t);
                }
                json_span(&mut out, "span", it.span);
                json_span(&mut out, "head", it.head);
                out.push('}');
            }
            out.push_str("]}");
        }
        Ok(Err(msg)) => {
            let mut parts = msg.split('\u{0}');
            let text = parts.next().unwrap_or_default();
            let line = parts.next().unwrap_or("0");
            let col = parts.next().unwrap_or("0");
            out.push_str(",\"ok\":false,\"error\":");
            json_str(&mut out, text);
            let _ = write!(out, ",\"line\":{line},\"col\":{col}}}");
        }
        Err(_) => {
            out.push_str(",\"ok\":false,\"error\":\"panic in syn\",\"line\":0,\"col\":0}");
        }
    }
    out
}

fn run() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let paths: Vec<String> = if args.len() == 1 && args[0] == "-" {
        std::io::stdin()
            .lock()
            .lines()
            .map_while(Result::ok)
            .filter(|l| !l.is_empty())
            .collect()
    } else {
        args
    };
    std::panic::set_hook(Box::new(|_| {}));
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    for p in &paths {
        let line = one_file(p);
        let _ = writeln!(w, "{line}");
    }
}

fn main() {
    // syn recurses per nesting level; deeply nested generated code needs a big stack.
    let t = std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(run)
        .expect("spawn oracle thread");
    t.join().expect("oracle thread");
}
