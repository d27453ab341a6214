"""`cargo g lint` on what is not Rust source: said on stderr, never linted, stdout stays JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rustg.cli.cargo_g import run
from rustg.gpu.tokens import DEFAULT_MAX_FILE_BYTES


def test_binary_huge_and_latin1_files_are_reported_and_the_rest_linted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "b"\nversion = "0.1.0"\n')
    src = tmp_path / "src"
    src.mkdir()
    (src / "lib.rs").write_text("pub fn f() {\n    dbg!(1);\n}\n")
    (src / "blob.rs").write_bytes(b"\x7fELF\0\0\x01" * 100)
    (src / "huge.rs").write_bytes(b"// x\n" * (DEFAULT_MAX_FILE_BYTES // 5 + 1))
    (src / "latin1.rs").write_bytes(b'pub fn g() {\n    dbg!("caf\xe9");\n}\n')
    code = run(["lint", "--no-daemon", "--format", "json", "--workspace", str(tmp_path)])
    out = capsys.readouterr()
    assert code == 0
    found = {(d["file"], d["rule"]) for d in json.loads(out.out)}
    # Invalid UTF-8 is still lexed (error tokens where it is bad): its findings count.
    assert found == {("src/lib.rs", "dbg_macro"), ("src/latin1.rs", "dbg_macro")}
    assert "skipped src/blob.rs: a binary file" in out.err
    assert "skipped src/huge.rs: 8.0 MiB, over the engine's 8 MiB limit" in out.err
