"""Native formatter coverage and exactness over the real corpus, and its speed.

For every corpus file (scripts/corpus.sh) formatted once by the installed rustfmt (edition 2021,
default config, cached under ``--cache``), the file is indexed by the engine and
``format_top_level_items`` is called; each non-None entry is compared with the item's text in
the rustfmt output (the same bytes from its first attribute to its last token). Counts per item
kind: items, covered (non-None), wrong (covered and different). Wrong must be 0.

``--scramble`` additionally feeds a whitespace-scrambled copy (every run of spaces between two
tokens on a line becomes 1-3 spaces or is kept, indentation stripped) and checks that every
covered item still prints as rustfmt's output: the printer must not read layout from the input.

Speed: MB/s of ``format_top_level_items`` alone (indexing excluded: the engine has the arrays
hot) over the covered corpus bytes, next to the anchor rustfmt's MB/s measured in the same run on
a sample of files.

``--reasons K`` tallies, per item kind, why refused items were refused (the message of the
printer's ``Unsupported``, or "use/mod group order" for an item the group check dropped) and
prints the K most common: the list of constructs to model next.

    .venv/bin/python bench/fmt_native_coverage.py [--every N] [--scramble] [--show-wrong K]
        [--reasons K]
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import os
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine_info, results_path, write_results

REPO_ROOT = Path(__file__).resolve().parents[1]
REGISTRY = Path(os.environ.get("RUSTG_CORPUS_ROOT", "/usr/share/cargo/registry"))
RUSTFMT = ["rustfmt", "--edition", "2021", "--emit", "stdout", "--quiet"]


def corpus_files() -> list[Path]:
    out = subprocess.run(
        [str(REPO_ROOT / "scripts/corpus.sh")], capture_output=True, text=True, check=True
    ).stdout
    return [Path(p) for p in out.split()]


def rustfmt_version() -> str:
    return subprocess.run(
        ["rustfmt", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()


def formatted_corpus(cache: Path, files: list[Path], jobs: int = 2) -> list[tuple[Path, bytes]]:
    """(original path, rustfmt output) for every file rustfmt formats; cached per version.

    Files go through stdin from a directory without rustfmt.toml, so each crate's own config
    and its out-of-line modules play no part: the output is default-config rustfmt.
    """
    tag = hashlib.sha256(rustfmt_version().encode()).hexdigest()[:12]
    root = cache / tag
    root.mkdir(parents=True, exist_ok=True)

    def one(p: Path) -> tuple[Path, bytes] | None:
        dst = root / os.path.relpath(p, REGISTRY)
        fail = dst.with_suffix(".fail")
        if dst.exists():
            return p, dst.read_bytes()
        if fail.exists():
            return None
        dst.parent.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(
            RUSTFMT, input=p.read_bytes(), capture_output=True, cwd=root, check=False
        )
        if r.returncode != 0:
            fail.write_bytes(r.stderr)
            return None
        dst.write_bytes(r.stdout)
        return p, r.stdout

    with ThreadPoolExecutor(jobs) as ex:
        return [r for r in ex.map(one, files) if r is not None]


def scramble(source: bytes, seed: int) -> bytes:
    """Strip indentation and vary the spaces between tokens (never inside a token: spaces are
    only changed where the engine's lexer says a whitespace token lies on one line)."""
    from rustg.gpu.items import index_file

    rng = random.Random(seed)
    tokens, _, _ = index_file(source)
    out = []
    for k, s, e in zip(
        tokens.kind.tolist(), tokens.start.tolist(), tokens.end.tolist(), strict=True
    ):
        text = source[s:e]
        if k == 0 and b"\n" not in text:
            out.append(b" " * rng.choice((1, 1, 2, 3)))
        elif k == 0:
            out.append(b"\n" * text.count(b"\n"))
        else:
            out.append(text)
    return b"".join(out)


def refusal_reason(source: bytes, tokens: Any, items: Any, idx: int, config: Any) -> str:
    """Why the printer refused top-level item ``idx`` (re-printed alone to catch the reason)."""
    from rustg.gpu.fmt.native import native_config_supported
    from rustg.gpu.fmt.native_print import Printer, Widths
    from rustg.gpu.fmt.native_tokens import Unsupported, item_tokens

    if not native_config_supported(config, source):
        return "config"
    lo, hi = int(items.start[idx]), int(items.end[idx])
    try:
        toks = item_tokens(
            source, tokens, lo, hi, source.decode("ascii") if source.isascii() else None
        )
        p = Printer(toks, Widths.default_for(int(config.max_width)), " " * 4)
        p.item("")
        if not p.at_end():
            return "tokens left over"
    except Unsupported as e:
        return str(e)[:60]
    except (UnicodeDecodeError, IndexError) as e:
        return type(e).__name__
    return "use/mod group order"


def measure(
    files: list[tuple[Path, bytes]], *, do_scramble: bool, show_wrong: int, reasons: bool = False
) -> dict[str, Any]:
    from rustg.gpu.fmt.native import format_top_level_items
    from rustg.gpu.items import ItemKind, index_file

    config = _default_config()
    per_kind: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    why: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    wrong_examples: list[dict[str, Any]] = []
    native_s = 0.0
    nbytes = 0
    for path, formatted in files:
        tokens, tree, items = index_file(formatted)
        t0 = time.perf_counter()
        got = format_top_level_items(formatted, tokens, tree, items, config)
        native_s += time.perf_counter() - t0
        nbytes += len(formatted)
        top = [i for i in range(len(items)) if int(items.depth[i]) == 0]
        expected = []
        for idx, text in zip(top, got, strict=True):
            a = int(tokens.start[int(items.start[idx])])
            b = int(tokens.end[int(items.end[idx])])
            exp = formatted[a:b].decode("utf-8", "replace")
            expected.append(exp)
            kind = str(ItemKind(int(items.kind[idx])))
            c = per_kind[kind]
            c["items"] += 1
            if text is None:
                if reasons:
                    why[kind][refusal_reason(formatted, tokens, items, idx, config)] += 1
                continue
            c["covered"] += 1
            if text != exp:
                c["wrong"] += 1
                if len(wrong_examples) < show_wrong:
                    wrong_examples.append(
                        {"file": str(path), "kind": kind, "expected": exp, "got": text}
                    )
        if do_scramble:
            scr = scramble(formatted, hash(str(path)) & 0xFFFF)
            st, sr, si = index_file(scr)
            stop = [i for i in range(len(si)) if int(si.depth[i]) == 0]
            if len(stop) != len(top):
                continue
            sgot = format_top_level_items(scr, st, sr, si, config)
            for idx, text, exp in zip(stop, sgot, expected, strict=True):
                kind = str(ItemKind(int(si.kind[idx])))
                c = per_kind[kind]
                if text is None:
                    continue
                c["scrambled_covered"] += 1
                if text != exp:
                    c["scrambled_wrong"] += 1
                    if len(wrong_examples) < show_wrong:
                        wrong_examples.append(
                            {
                                "file": str(path),
                                "kind": kind,
                                "scrambled": True,
                                "expected": exp,
                                "got": text,
                            }
                        )
    total: collections.Counter[str] = collections.Counter()
    for c in per_kind.values():
        total.update(c)
    return {
        "files": len(files),
        "bytes": nbytes,
        "per_kind": {
            k: dict(v) for k, v in sorted(per_kind.items(), key=lambda kv: -kv[1]["items"])
        },
        "total": dict(total),
        "native_seconds": native_s,
        "native_mb_per_s": nbytes / native_s / 1e6 if native_s else None,
        "wrong_examples": wrong_examples,
        **({"refusals": {k: dict(v.most_common()) for k, v in why.items()}} if reasons else {}),
    }


def _default_config() -> Any:
    from rustg.gpu.fmt.config import FmtConfig

    return FmtConfig(edition="2021")


def rustfmt_anchor(files: list[Path], n: int = 40) -> dict[str, Any]:
    """rustfmt's own speed on a sample (stdin, one process per file, as the cache was built)."""
    sample = files[:: max(1, len(files) // n)][:n]
    size = 0
    t0 = time.perf_counter()
    for p in sample:
        src = p.read_bytes()
        size += len(src)
        subprocess.run(RUSTFMT, input=src, capture_output=True, cwd="/", check=False)
    dt = time.perf_counter() - t0
    return {"files": len(sample), "bytes": size, "seconds": dt, "mb_per_s": size / dt / 1e6}


def default_cache() -> Path:
    return (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rustg/fmt-native-corpus"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=int, default=1, help="take every N-th corpus file")
    ap.add_argument("--cache", type=Path, default=default_cache())
    ap.add_argument("--scramble", action="store_true")
    ap.add_argument("--show-wrong", type=int, default=5)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--reasons", type=int, default=0, help="print the K top refusal reasons")
    ns = ap.parse_args(argv)
    machine = machine_info(tools={"rustfmt": ["rustfmt", "--version"]})
    load_before = os.getloadavg()
    files = corpus_files()[:: ns.every]
    formatted = formatted_corpus(ns.cache, files)
    result = measure(
        formatted, do_scramble=ns.scramble, show_wrong=ns.show_wrong, reasons=ns.reasons > 0
    )
    anchor = rustfmt_anchor([p for p, _ in formatted])
    result["rustfmt_anchor"] = anchor
    if result["native_mb_per_s"]:
        result["native_vs_rustfmt"] = result["native_mb_per_s"] / anchor["mb_per_s"]
    result["load_avg"] = {"before": load_before, "after": os.getloadavg()}
    result["machine"] = machine
    print(
        f"{'kind':<14}{'items':>8}{'covered':>9}{'cov %':>7}{'wrong':>7}"
        f"{'scr.cov':>9}{'scr.wrong':>10}"
    )
    for kind, c in [*result["per_kind"].items(), ("TOTAL", result["total"])]:
        items = c.get("items", 0)
        cov = c.get("covered", 0)
        pct = 100 * cov / items if items else 0.0
        print(
            f"{kind:<14}{items:>8}{cov:>9}{pct:>6.1f}%{c.get('wrong', 0):>7}"
            f"{c.get('scrambled_covered', 0):>9}{c.get('scrambled_wrong', 0):>10}"
        )
    print(
        f"files {result['files']}, {result['bytes'] / 1e6:.1f} MB; "
        f"native {result['native_mb_per_s'] or 0:.2f} MB/s, "
        f"rustfmt {anchor['mb_per_s']:.2f} MB/s (x{result.get('native_vs_rustfmt', 0):.1f})"
    )
    for kind, why in result.get("refusals", {}).items():
        print(f"refused {kind}:")
        for reason, n in list(why.items())[: ns.reasons]:
            print(f"  {n:>7}  {reason}")
    for ex in result["wrong_examples"]:
        print(
            f"--- WRONG {ex['kind']} in {ex['file']}{' (scrambled)' if ex.get('scrambled') else ''}"
        )
        print("expected:\n" + ex["expected"] + "\ngot:\n" + ex["got"])
    if not ns.no_write:
        print("wrote", write_results(results_path("fmt-native-coverage"), result))
    wrong = result["total"].get("wrong", 0) + result["total"].get("scrambled_wrong", 0)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
