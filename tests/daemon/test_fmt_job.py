"""The daemon's fmt job over a change set of many files (its first check of a workspace): real
rustfmt, real LMDB; the files share rustfmt processes and each gets its own diagnostics."""

from __future__ import annotations

from pathlib import Path

import lmdb
import pytest

from rustg.daemon.fmt_job import SOURCE, FmtJob

pytestmark = pytest.mark.slow

FORMATTED = b"pub fn a(x: u32) -> u32 {\n    x + 1\n}\n"
UNFORMATTED = b"pub fn   b ( x:u32 )->u32{x+1}\nconst   C: u8=1;\n"
BROKEN = b"pub fn c() { let = ; }\n"  # rustfmt refuses it; the parse job reports syntax errors


def test_a_change_set_of_many_files_gets_one_result_per_file(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "rustfmt.toml").write_text('edition = "2021"\n')
    files = {f"src/ok{k}.rs": FORMATTED for k in range(3)}
    files |= {f"src/bad{k}.rs": UNFORMATTED for k in range(3)}
    files["src/broken.rs"] = BROKEN
    for rel, text in files.items():
        (root / rel).write_bytes(text)
    changed: dict[str, str | None] = dict.fromkeys(files, "digest")
    changed["src/gone.rs"] = "digest"  # deleted before the job read it
    changed["README.md"] = "digest"  # not Rust: not the fmt job's
    env = lmdb.open(str(tmp_path / "db"), max_dbs=8, map_size=1 << 26)
    try:
        out = FmtJob(root, env=env)._run(changed)
    finally:
        env.close()
    assert set(out) == set(files) | {"src/gone.rs"}
    for k in range(3):
        assert out[f"src/ok{k}.rs"] == []
        (diag,) = out[f"src/bad{k}.rs"]
        assert (diag.source, diag.code, diag.line) == (SOURCE, "would-reformat", 1)
        assert diag.suggestions[0].replacement == (
            "pub fn b(x: u32) -> u32 {\n    x + 1\n}\nconst C: u8 = 1;\n"
        )
    assert out["src/broken.rs"] == [] and out["src/gone.rs"] == []
