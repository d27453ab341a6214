//! Dump proc-macro2's tokens for many files as fixed-size binary records.
//!
//! Usage: `lexer_oracle LIST TOKENS_OUT FILES_OUT` where LIST holds one path per line.
//! proc-macro2 lexes with its fallback lexer here (we are not inside a proc macro), which is
//! exactly the lexer whose tokens we compare with.
//!
//! TOKENS_OUT: little-endian i32 records of 8 fields, one per token tree leaf, groups flattened
//! into an open and a close record, in source order:
//!   [file index, code, line, column, end line, end column, byte start, byte end]
//! line is 1-based, column 0-based in chars (proc-macro2's LineColumn); byte offsets are
//! computed here from line/column against the file's text.
//! code = kind | JOINT (for a Spacing::Joint punct) | TEXT_MISMATCH (to_string() differs from
//! the source text between the byte offsets).
//! FILES_OUT: one line per file: `index<TAB>status<TAB>line<TAB>column<TAB>message`, status
//! `ok`, `lex-error` (proc-macro2 rejected the file; line/column of its error) or `unreadable`.

use proc_macro2::{Delimiter, Spacing, Span, TokenStream, TokenTree};
use std::io::{BufWriter, Write};
use std::str::FromStr;

const K_IDENT: i32 = 1;
const K_RAW_IDENT: i32 = 2;
const K_PUNCT: i32 = 3;
const K_OPEN: i32 = 4;
const K_CLOSE: i32 = 5;
const K_LIT_STR: i32 = 10;
const K_LIT_BYTE_STR: i32 = 11;
const K_LIT_BYTE: i32 = 12;
const K_LIT_CHAR: i32 = 13;
const K_LIT_INT: i32 = 14;
const K_LIT_FLOAT: i32 = 15;
const K_LIT_OTHER: i32 = 16;
const K_LIT_RAW_STR: i32 = 17;
const K_LIT_RAW_BYTE_STR: i32 = 18;
const JOINT: i32 = 1 << 8;
const TEXT_MISMATCH: i32 = 1 << 9;

struct FileText<'a> {
    text: &'a str,
    /// byte offset of each char, and the text's length at the end
    char_bytes: Vec<usize>,
    /// char index of the start of each line
    line_chars: Vec<usize>,
}

impl<'a> FileText<'a> {
    fn new(text: &'a str) -> Self {
        let mut char_bytes = Vec::with_capacity(text.len() + 1);
        let mut line_chars = vec![0];
        for (i, c) in text.char_indices() {
            char_bytes.push(i);
            if c == '\n' {
                line_chars.push(char_bytes.len());
            }
        }
        char_bytes.push(text.len());
        FileText {
            text,
            char_bytes,
            line_chars,
        }
    }

    /// Byte offset of (1-based line, 0-based char column).
    fn byte_at(&self, line: usize, column: usize) -> usize {
        let c = self.line_chars[line - 1] + column;
        self.char_bytes[c.min(self.char_bytes.len() - 1)]
    }
}

struct Out<'a> {
    records: Vec<[i32; 8]>,
    file: i32,
    text: &'a FileText<'a>,
}

impl<'a> Out<'a> {
    fn record(&mut self, code: i32, span: Span, repr: Option<&str>) {
        let (s, e) = (span.start(), span.end());
        let b0 = self.text.byte_at(s.line, s.column);
        let b1 = self.text.byte_at(e.line, e.column);
        let mut code = code;
        if let Some(repr) = repr {
            if self.text.text.get(b0..b1) != Some(repr) {
                code |= TEXT_MISMATCH;
            }
        }
        self.records.push([
            self.file,
            code,
            s.line as i32,
            s.column as i32,
            e.line as i32,
            e.column as i32,
            b0 as i32,
            b1 as i32,
        ]);
    }

    fn stream(&mut self, ts: TokenStream) {
        for tt in ts {
            match tt {
                TokenTree::Group(g) => {
                    let (open, close) = match g.delimiter() {
                        Delimiter::Parenthesis => ("(", ")"),
                        Delimiter::Bracket => ("[", "]"),
                        Delimiter::Brace => ("{", "}"),
                        Delimiter::None => ("", ""),
                    };
                    self.record(K_OPEN, g.span_open(), Some(open));
                    self.stream(g.stream());
                    self.record(K_CLOSE, g.span_close(), Some(close));
                }
                TokenTree::Ident(i) => {
                    let s = i.to_string();
                    let kind = if s.starts_with("r#") {
                        K_RAW_IDENT
                    } else {
                        K_IDENT
                    };
                    self.record(kind, i.span(), Some(&s));
                }
                TokenTree::Punct(p) => {
                    let joint = if p.spacing() == Spacing::Joint {
                        JOINT
                    } else {
                        0
                    };
                    let s = p.as_char().to_string();
                    self.record(K_PUNCT | joint, p.span(), Some(&s));
                }
                TokenTree::Literal(l) => {
                    let s = l.to_string();
                    let raw = s.starts_with('r') || s.starts_with("br");
                    let kind = match syn::Lit::new(l.clone()) {
                        syn::Lit::Str(_) if raw => K_LIT_RAW_STR,
                        syn::Lit::Str(_) => K_LIT_STR,
                        syn::Lit::ByteStr(_) if raw => K_LIT_RAW_BYTE_STR,
                        syn::Lit::ByteStr(_) => K_LIT_BYTE_STR,
                        syn::Lit::Byte(_) => K_LIT_BYTE,
                        syn::Lit::Char(_) => K_LIT_CHAR,
                        syn::Lit::Int(_) => K_LIT_INT,
                        syn::Lit::Float(_) => K_LIT_FLOAT,
                        _ => K_LIT_OTHER,
                    };
                    self.record(kind, l.span(), Some(&s));
                }
            }
        }
    }
}

/// Lex one file; its status line and records. Runs on a fresh thread per file: proc-macro2's
/// source map is thread-local and looks files up linearly, so one long-lived thread would make
/// the corpus run quadratic (measured: 85 s instead of a few).
fn lex_file(index: usize, path: &str) -> (String, Vec<[i32; 8]>) {
    let text = match std::fs::read(path).map(String::from_utf8) {
        Ok(Ok(t)) => t,
        _ => {
            return (
                format!("{index}\tunreadable\t0\t0\tnot UTF-8 or unreadable"),
                vec![],
            )
        }
    };
    let parsed = std::panic::catch_unwind(|| TokenStream::from_str(&text));
    match parsed {
        Ok(Ok(ts)) => {
            let ft = FileText::new(&text);
            let mut out = Out {
                records: Vec::new(),
                file: index as i32,
                text: &ft,
            };
            out.stream(ts);
            (format!("{index}\tok\t0\t0\t"), out.records)
        }
        Ok(Err(e)) => {
            let s = e.span().start();
            (
                format!("{index}\tlex-error\t{}\t{}\t{e}", s.line, s.column),
                vec![],
            )
        }
        Err(_) => (
            format!("{index}\tlex-error\t0\t0\tproc-macro2 panicked"),
            vec![],
        ),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: lexer_oracle LIST TOKENS_OUT FILES_OUT");
        std::process::exit(2);
    }
    let list = std::fs::read_to_string(&args[1]).expect("read list");
    let paths: Vec<&str> = list.lines().filter(|l| !l.is_empty()).collect();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<(String, Vec<[i32; 8]>)>> = vec![None; paths.len()];
    let slots = std::sync::Mutex::new(&mut results);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= paths.len() {
                    break;
                }
                let path = paths[i].to_string();
                let r = std::thread::spawn(move || lex_file(i, &path))
                    .join()
                    .unwrap();
                slots.lock().unwrap()[i] = Some(r);
            });
        }
    });
    let mut tokens = BufWriter::with_capacity(1 << 20, std::fs::File::create(&args[2]).unwrap());
    let mut files = BufWriter::new(std::fs::File::create(&args[3]).unwrap());
    for r in results {
        let (status, records) = r.unwrap();
        writeln!(files, "{status}").unwrap();
        for rec in records {
            for v in rec {
                tokens.write_all(&v.to_le_bytes()).unwrap();
            }
        }
    }
    tokens.flush().unwrap();
    files.flush().unwrap();
}
