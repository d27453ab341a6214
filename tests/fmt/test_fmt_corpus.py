"""Validation on the real corpus (Debian's librust-*-dev crates), and a small CI version.

* identity: files first formatted by rustfmt (to its fixed point: rustfmt is not always
  idempotent in one pass) need no change;
* restoration: whitespace-scrambled versions come back byte-identical to rustfmt's output for
  the same input, with the native printer in the loop;
* idempotence: formatting our output again changes nothing where rustfmt's does not;
* the safety net never fires on any of it.

``RUSTG_FMT_CORPUS_SAMPLE`` picks how many corpus files (default 80; ``all`` for every file).
"""

from __future__ import annotations

import os
import random
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from rustg.gpu.fmt.config import FmtConfig
from rustg.gpu.fmt.driver import Formatter, Outcome
from rustg.gpu.fmt.rustfmt import RustfmtError, format_source
from tests.fmt.scramble import scramble
from tests.fmt.test_fmt_driver import MIXED, REWRITES

REPO = Path(__file__).resolve().parents[2]
CONFIG = FmtConfig(edition="2021")


def _fixed_point(source: bytes) -> bytes | None:
    for _ in range(3):
        try:
            out = format_source(source, CONFIG, cwd=Path("/"))
        except RustfmtError:
            return None
        if out == source:
            return out
        source = out
    return None


def _corpus_sample() -> list[Path]:
    listing = subprocess.run(
        [str(REPO / "scripts/corpus.sh")], capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        pytest.skip("corpus not installed (scripts/corpus.sh)")
    files = [Path(p) for p in listing.stdout.split()]
    wanted = os.environ.get("RUSTG_FMT_CORPUS_SAMPLE", "80")
    if wanted != "all":
        files = random.Random(6).sample(files, min(int(wanted), len(files)))
    return files


def _formatted_copy(sources: list[bytes], root: Path) -> list[Path]:
    (root / "rustfmt.toml").write_text('edition = "2021"\n')
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        fixed = list(pool.map(_fixed_point, sources))
    paths = []
    for k, text in enumerate(fixed):
        if text is not None:  # rustfmt refuses a few corpus files (syntax of other editions)
            path = root / f"f{k:05d}.rs"
            path.write_bytes(text)
            paths.append(path)
    return paths


def _validate(paths: list[Path], root: Path) -> dict[str, int]:
    formatter = Formatter(env={})
    counts = {"files": len(paths), "items": 0, "native": 0, "scrambled": 0}
    # identity
    for result in formatter.format_files(paths):
        assert result.outcome is Outcome.UNCHANGED, (result.path, result.message)
        counts["items"] += result.items
        counts["native"] += result.native_items
    # restoration and idempotence
    scrambled_dir = root / "scrambled"
    scrambled_dir.mkdir()
    (scrambled_dir / "rustfmt.toml").write_text('edition = "2021"\n')
    scrambled = []
    for k, path in enumerate(paths):
        target = scrambled_dir / path.name
        target.write_bytes(scramble(path.read_bytes(), seed=k))
        scrambled.append(target)
    for result in formatter.format_files(scrambled):
        expected = format_source(result.original, CONFIG, cwd=root)
        assert result.outcome is not Outcome.INTERNAL_ERROR, (result.path, result.message)
        assert result.formatted == expected, result.path
        again = formatter.format_bytes(result.path, expected)
        assert again.formatted == format_source(expected, CONFIG, cwd=root), result.path
        counts["scrambled"] += 1
    return counts


@pytest.mark.slow
def test_small_identity_restoration_idempotence(tmp_path: Path) -> None:
    paths = _formatted_copy([MIXED, REWRITES], tmp_path)
    assert len(paths) == 2
    counts = _validate(paths, tmp_path)
    assert counts["scrambled"] == 2


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_identity_restoration_idempotence(tmp_path: Path) -> None:
    sources = [p.read_bytes() for p in _corpus_sample()]
    paths = _formatted_copy(sources, tmp_path)
    assert len(paths) >= 0.9 * len(sources)
    counts = _validate(paths, tmp_path)
    print(f"\nfmt corpus validation: {counts}")
    assert counts["scrambled"] == len(paths)
