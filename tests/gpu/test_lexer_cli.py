"""``cargo g tokens``: exact table text and the JSON document."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from rustg.cli.engine_commands import add_engine_commands, cmd_tokens
from rustg.cli.errors import CliError

SOURCE = b'fn f<\'a>() {\n    x += "\xc3\xa9"; // c\n}\n'


def run_tokens(path: Path, *flags: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    handlers: dict[str, object] = {}
    add_engine_commands(parser.add_subparsers(dest="command"), handlers)  # type: ignore[arg-type]
    args = parser.parse_args(["tokens", str(path), *flags])
    out = io.StringIO()
    code = cmd_tokens(args, Console(file=out, width=80, color_system=None, highlight=False))
    return code, out.getvalue()


def test_table(tmp_path: Path) -> None:
    src = tmp_path / "a.rs"
    src.write_bytes(SOURCE)
    code, text = run_tokens(src)
    assert code == 0
    lines = [line.rstrip() for line in text.splitlines()]
    assert lines[0] == f"{src}: 23 tokens, 0 lexical error(s)"
    assert lines[2].split() == ["#", "kind", "at", "text", "keyword"]
    body = [line.split() for line in lines[4:] if line.strip()]
    assert body == [
        ["0", "IDENT", "1:1", "fn", "fn"],
        ["2", "IDENT", "1:4", "f"],
        ["3", "LT", "1:5", "<"],
        ["4", "LIFETIME", "1:6", "'a"],
        ["5", "GT", "1:8", ">"],
        ["6", "OPEN_PAREN", "1:9", "("],
        ["7", "CLOSE_PAREN", "1:10", ")"],
        ["9", "OPEN_BRACE", "1:12", "{"],
        ["11", "IDENT", "2:5", "x"],
        ["13", "PLUS", "2:7", "+"],
        ["14", "EQ", "2:8", "="],
        ["16", "STR", "2:10", '"\\xe9"'],
        ["17", "SEMI", "2:13", ";"],
        ["19", "LINE_COMMENT", "2:15", "//", "c"],
        ["21", "CLOSE_BRACE", "3:1", "}"],
    ]


def test_json_document(tmp_path: Path) -> None:
    src = tmp_path / "b.rs"
    src.write_bytes(SOURCE + b'"open')
    code, text = run_tokens(src, "--json")
    assert code == 1  # a lexical error
    doc = json.loads(text)
    assert doc["status"] == "ok" and doc["errors"] == 1 and doc["utf8_error"] is None
    toks = doc["tokens"]
    assert "".join(t["text"] for t in toks) == (SOURCE + b'"open').decode()
    plus = next(t for t in toks if t["text"] == "+")
    assert plus["joint"] and (plus["line"], plus["column"]) == (2, 7)
    s = next(t for t in toks if t["kind"] == "STR")
    assert (s["column"], s["end_column"], s["start"], s["end"]) == (10, 13, 22, 26)
    assert toks[-1] == {
        "kind": "ERR_UNTERMINATED_STR", "text": '"open', "start": 35, "end": 40, "line": 4,
        "column": 1, "end_line": 4, "end_column": 6, "keyword": None, "joint": False,
        "error": True,
    }  # fmt: skip


def test_binary_file_and_unreadable(tmp_path: Path) -> None:
    src = tmp_path / "c.rs"
    src.write_bytes(b"\x00\x01")
    code, text = run_tokens(src)
    assert code == 1 and "not lexed (binary)" in text
    with pytest.raises(CliError) as err:
        run_tokens(tmp_path / "missing.rs")
    assert err.value.exit_code == 2
