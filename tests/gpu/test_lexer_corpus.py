"""Our tokens against proc-macro2's, over every .rs file of the Debian corpus.

The oracle (tests/oracles/lexer_oracle) is proc-macro2 1.0.47's fallback lexer with
span-locations, built offline from Debian's registry; it dumps binary records (see its
main.rs). Systematic differences between what proc-macro2 reports and what our arrays hold are
mapped explicitly here, each one a rule with its reason:

1. Trivia: proc-macro2 drops whitespace and plain comments (and the BOM); we keep them as
   tokens. Dropped from our side before comparing.
2. Doc comments: proc-macro2 turns ``/// x`` into ``# [doc = "x"]`` (``#!`` for inner ones),
   every piece spanning the whole comment, the group's open/close spans its first/last
   character. We expand each doc-comment token into exactly that. (A CRLF line doc comment's
   text stops before the ``\\r`` in proc-macro2, but its span includes it, as ours does.) The
   text of these synthesized pieces is not source text, so the oracle's text check does not
   apply to them.
3. Lifetimes: proc-macro2 reports ``'a`` as a Joint ``'`` punct and the ident ``a``.
4. Spacing: proc-macro2 marks a punct Joint when the next character is a punct character,
   ``'`` included (so ``='a'`` is Joint), and not the start of a comment. We check our
   :func:`joint` against it after adding that ``'`` rule.
5. Reserved prefixes: Rust 2021 reserves ``ident#``/``ident"``/``ident'`` (our
   ``ERR_UNKNOWN_PREFIX``); edition-2018 crates use ``#name#value`` in ``quote!`` and
   proc-macro2 1.0.47 lexes the identifier. Compared as an identifier.
6. Literal kinds: the oracle classifies literals with ``syn::Lit::new`` (by their text); kinds
   without a syn counterpart (C strings) would show up as mismatches, none are in the corpus.

Files proc-macro2 rejects are listed in the output, not compared silently.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from rustg.gpu.sources import SourceSet
from rustg.gpu.tokens import TokenArrays, TokenKind, is_punct, line_columns

REPO_ROOT = Path(__file__).resolve().parents[2]
ORACLE_DIR = REPO_ROOT / "tests" / "oracles" / "lexer_oracle"
ORACLE_TARGET = REPO_ROOT / "build" / "lexer_oracle-target"
ORACLE_CACHE = REPO_ROOT / "build" / "lexer_oracle-cache"

# Oracle codes (tests/oracles/lexer_oracle/src/main.rs)
O_IDENT, O_RAW_IDENT, O_PUNCT, O_OPEN, O_CLOSE = 1, 2, 3, 4, 5
O_STR, O_BYTE_STR, O_BYTE, O_CHAR, O_INT, O_FLOAT, O_OTHER, O_RAW_STR, O_RAW_BYTE_STR = range(
    10, 19
)
O_JOINT = 1 << 8
O_TEXT_MISMATCH = 1 << 9

RECORD = np.dtype(
    [
        ("file", "<i4"),
        ("code", "<i4"),
        ("line", "<i4"),
        ("col", "<i4"),
        ("end_line", "<i4"),
        ("end_col", "<i4"),
        ("start", "<i4"),
        ("end", "<i4"),
    ]
)

K = TokenKind
#: Our kind -> oracle code for tokens that map one to one (0: dropped as trivia).
ONE_TO_ONE = np.zeros(256, dtype=np.int32)
for _k, _o in {
    K.IDENT: O_IDENT,
    K.RAW_IDENT: O_RAW_IDENT,
    K.ERR_UNKNOWN_PREFIX: O_IDENT,  # rule 5
    K.INT: O_INT,
    K.FLOAT: O_FLOAT,
    K.CHAR: O_CHAR,
    K.BYTE: O_BYTE,
    K.STR: O_STR,
    K.BYTE_STR: O_BYTE_STR,
    K.RAW_STR: O_RAW_STR,
    K.RAW_BYTE_STR: O_RAW_BYTE_STR,
    K.OPEN_PAREN: O_OPEN,
    K.OPEN_BRACKET: O_OPEN,
    K.OPEN_BRACE: O_OPEN,
    K.CLOSE_PAREN: O_CLOSE,
    K.CLOSE_BRACKET: O_CLOSE,
    K.CLOSE_BRACE: O_CLOSE,
}.items():
    ONE_TO_ONE[_k] = _o
for _k in K:
    if is_punct(_k):
        ONE_TO_ONE[_k] = O_PUNCT
    elif _k >= 128 and _k != K.ERR_UNKNOWN_PREFIX:
        ONE_TO_ONE[_k] = -1  # an error token: never in a file proc-macro2 accepts
ONE_TO_ONE[K.C_STR] = ONE_TO_ONE[K.RAW_C_STR] = ONE_TO_ONE[K.RAW_LIFETIME] = -1  # rule 6

#: Doc comments (rule 2): the oracle codes each expands to.
OUTER_DOC = np.array([O_PUNCT, O_OPEN, O_IDENT, O_PUNCT, O_STR, O_CLOSE], dtype=np.int32)
INNER_DOC = np.array([O_PUNCT, O_PUNCT, O_OPEN, O_IDENT, O_PUNCT, O_STR, O_CLOSE], dtype=np.int32)
DOC_KINDS = (K.OUTER_LINE_DOC, K.INNER_LINE_DOC, K.OUTER_BLOCK_DOC, K.INNER_BLOCK_DOC)


def build_oracle() -> Path:
    cargo = shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
    # cwd matters: cargo finds .cargo/config.toml (the Debian source replacement) from it.
    subprocess.run(
        [cargo, "build", "--release", "--offline", "--quiet", "--target-dir", str(ORACLE_TARGET)],
        cwd=ORACLE_DIR,
        check=True,
    )
    return ORACLE_TARGET / "release" / "lexer_oracle"


def run_oracle(paths: list[Path]) -> tuple[npt.NDArray[np.void], list[list[str]]]:
    """(records, file status rows), cached under build/ by oracle binary + corpus identity."""
    binary = build_oracle()
    key = hashlib.sha256(binary.read_bytes())
    for p in paths:
        st = p.stat()
        key.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    stem = ORACLE_CACHE / key.hexdigest()[:24]
    tokens, files = stem.with_suffix(".bin"), stem.with_suffix(".tsv")
    if not (tokens.exists() and files.exists()):
        ORACLE_CACHE.mkdir(parents=True, exist_ok=True)
        for old in ORACLE_CACHE.iterdir():  # one corpus at a time: these are ~400 MB
            old.unlink()
        listing = stem.with_suffix(".list")
        listing.write_text("".join(f"{p}\n" for p in paths))
        tmp_t, tmp_f = tokens.with_suffix(".tmp1"), files.with_suffix(".tmp2")
        subprocess.run([str(binary), str(listing), str(tmp_t), str(tmp_f)], check=True)
        os.replace(tmp_f, files)
        os.replace(tmp_t, tokens)
    rows = [line.split("\t", 4) for line in files.read_text().splitlines()]
    return np.fromfile(tokens, dtype=RECORD), rows


def expected_oracle_view(arrays: TokenArrays) -> dict[str, npt.NDArray[np.int64]]:
    """What proc-macro2 should report for our tokens (rules 1 to 5), for all files at once."""
    kind = arrays.kind.astype(np.int64)
    start = arrays.start.astype(np.int64)
    end = arrays.end.astype(np.int64)
    buf = arrays.buffer
    n = len(kind)
    files = np.repeat(np.arange(arrays.n_files), np.diff(arrays.file_token_offsets))

    is_outer_doc = (kind == K.OUTER_LINE_DOC) | (kind == K.OUTER_BLOCK_DOC)
    is_inner_doc = (kind == K.INNER_LINE_DOC) | (kind == K.INNER_BLOCK_DOC)
    is_lifetime = kind == K.LIFETIME
    counts = (ONE_TO_ONE[kind] != 0).astype(np.int64)
    counts[is_lifetime] = 2
    counts[is_outer_doc] = len(OUTER_DOC)
    counts[is_inner_doc] = len(INNER_DOC)

    # Spacing (rule 4): next token adjacent and a punct or starting with a quote.
    nxt_adjacent = np.zeros(n, dtype=bool)
    nxt_adjacent[:-1] = (end[:-1] == start[1:]) & (files[:-1] == files[1:])
    nxt_punctish = np.zeros(n, dtype=bool)
    nxt_punctish[:-1] = is_punct(kind[1:]) | (buf[np.minimum(start[1:], len(buf) - 1)] == 0x27)
    joint = is_punct(kind) & nxt_adjacent & nxt_punctish

    doc_end = end
    last_char = doc_end - 1
    for _ in range(3):  # back to the lead byte of the comment's last character
        cont = (buf[np.maximum(last_char, 0)] & 0xC0) == 0x80
        last_char[cont] -= 1

    row_tok = np.repeat(np.arange(n), counts)
    group_first = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=group_first[1:])
    j = np.arange(len(row_tok)) - group_first[row_tok]

    t_kind = kind[row_tok]
    code = ONE_TO_ONE[t_kind].astype(np.int64)
    r_start = start[row_tok].copy()
    r_end = end[row_tok].copy()
    r_joint = joint[row_tok].copy()
    synthetic = np.zeros(len(row_tok), dtype=bool)

    lt = is_lifetime[row_tok]
    code[lt & (j == 0)] = O_PUNCT
    r_end[lt & (j == 0)] = r_start[lt & (j == 0)] + 1
    r_joint[lt & (j == 0)] = True
    code[lt & (j == 1)] = O_IDENT
    r_start[lt & (j == 1)] += 1

    for is_doc, pieces in ((is_outer_doc, OUTER_DOC), (is_inner_doc, INNER_DOC)):
        d = is_doc[row_tok]
        jj = j[d]
        code[d] = pieces[jj]
        de = doc_end[row_tok][d]
        ds = start[row_tok][d]
        lc = last_char[row_tok][d]
        opening = pieces[jj] == O_OPEN
        closing = pieces[jj] == O_CLOSE
        s_ = np.where(closing, lc, ds)
        e_ = np.where(opening, ds + 1, de)  # comments start with '/': one byte
        r_start[d] = s_
        r_end[d] = e_
        r_joint[d] = False
        synthetic[d] = True

    return {
        "file": files[row_tok],
        "code": code,
        "start": r_start,
        "end": r_end,
        "joint": r_joint.astype(np.int64),
        "synthetic": synthetic.astype(np.int64),
    }


def compare(
    arrays: TokenArrays, records: npt.NDArray[np.void], rows: list[list[str]], paths: list[Path]
) -> tuple[int, list[str], Counter[str]]:
    """(mismatched tokens, examples, reasons)."""
    ours = expected_oracle_view(arrays)
    ok_files = np.array([r[1] == "ok" for r in rows], dtype=bool)
    keep = ok_files[ours["file"]]
    ours = {k: v[keep] for k, v in ours.items()}
    o_file = records["file"].astype(np.int64)
    o_code = records["code"].astype(np.int64)
    n_files = arrays.n_files
    ours_per_file = np.bincount(ours["file"], minlength=n_files)
    theirs_per_file = np.bincount(o_file, minlength=n_files)
    examples: list[str] = []
    reasons: Counter[str] = Counter()
    mismatched = 0

    same_count = (ours_per_file == theirs_per_file) & ok_files
    for f in np.flatnonzero(~same_count & ok_files):
        reasons["token count differs"] += 1
        mismatched += int(max(ours_per_file[f], theirs_per_file[f]))
        if len(examples) < 20:
            examples.append(
                f"{paths[f]}: {ours_per_file[f]} tokens here, {theirs_per_file[f]} in proc-macro2"
            )
    a = same_count[ours["file"]]
    b = same_count[o_file]
    o_line, o_col = records["line"][b].astype(np.int64), records["col"][b].astype(np.int64) + 1
    o_eline = records["end_line"][b].astype(np.int64)
    o_ecol = records["end_col"][b].astype(np.int64) + 1
    our_file = ours["file"][a]
    line, col = line_columns(arrays.buffer, arrays.file_offsets, ours["start"][a], our_file)
    eline, ecol = line_columns(arrays.buffer, arrays.file_offsets, ours["end"][a], our_file)
    synthetic = ours["synthetic"][a].astype(bool)
    base = arrays.file_offsets[o_file[b]]  # the oracle's offsets are file-relative
    o_start = records["start"][b] + base
    o_end = records["end"][b] + base
    checks = {
        "kind": ours["code"][a] != (o_code[b] & 0xFF),
        "start": ours["start"][a] != o_start,
        "end": ours["end"][a] != o_end,
        "spacing": ours["joint"][a] != ((o_code[b] & O_JOINT) != 0),
        "text": ~synthetic & ((o_code[b] & O_TEXT_MISMATCH) != 0),
        "line/column": (line != o_line) | (col != o_col) | (eline != o_eline) | (ecol != o_ecol),
    }
    bad = np.zeros(int(a.sum()), dtype=bool)
    for name, diff in checks.items():
        reasons[name] += int(diff.sum())
        bad |= diff
    mismatched += int(bad.sum())
    for i in np.flatnonzero(bad)[:20].tolist():
        s, e = int(ours["start"][a][i]), int(ours["end"][a][i])
        fi = int(our_file[i])
        why = [name for name, diff in checks.items() if diff[i]]
        text = arrays.buffer[s:e].tobytes()[:40]
        examples.append(
            f"{paths[fi]}:{line[i]}:{col[i]}: {why} ours={ours['code'][a][i]} {text!r} "
            f"theirs={o_code[b][i] & 0xFF} @{o_start[i]}..{o_end[i]} "
            f"{o_line[i]}:{o_col[i]}"
        )
    return mismatched, examples, reasons


@pytest.mark.corpus
@pytest.mark.slow
def test_tokens_match_proc_macro2_on_corpus(
    corpus_paths: list[Path], corpus: SourceSet, corpus_tokens: TokenArrays
) -> None:
    if shutil.which("cargo") is None and not (Path.home() / ".cargo" / "bin" / "cargo").exists():
        pytest.skip("no cargo to build the oracle")
    records, rows = run_oracle(corpus_paths)
    assert len(rows) == len(corpus_paths)
    rejected = [(corpus_paths[int(r[0])], r[1:]) for r in rows if r[1] != "ok"]
    print(f"\nlexer oracle: {len(corpus_paths)} files, {corpus.n_bytes} bytes, "
          f"{len(records)} proc-macro2 tokens")  # fmt: skip
    print(f"files proc-macro2 rejects ({len(rejected)}), not compared:")
    for path, why in rejected:
        print(f"  {path}: {why}")
    mismatched, examples, reasons = compare(corpus_tokens, records, rows, corpus_paths)
    print(f"mismatched tokens: {mismatched}")
    for reason, count in sorted(reasons.items()):
        print(f"  {reason}: {count}")
    for line in examples:
        print(f"  {line}")
    assert mismatched == 0
