"""`cargo g check` standalone: cargo for the host code and the kernels to PTX, so an error only
the GPU build sees (rustg-core lacks it) is reported at the user's line; `--no-kernels` skips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rustg.cli.cargo_g import run
from tests.support.rust_workspaces import copy_example

pytestmark = pytest.mark.slow

KERNELS = "crates/kernels/src/kernels.rs"
ANCHOR = "    let n = x.len().min(y.len());"


def test_check_reports_kernel_only_errors_at_the_users_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rustg.daemon.errors import ToolError
    from rustg.daemon.kernels.toolchain import find_rustc

    try:
        find_rustc()
    except ToolError as exc:
        pytest.skip(str(exc))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    ws = copy_example(tmp_path, "gpu-kernels")
    text = (ws / KERNELS).read_text()
    line = text.splitlines().index(ANCHOR) + 1
    # Fine on the host (std's core has it); rustg-core, the kernels' core, has no `time`.
    (ws / KERNELS).write_text(
        text.replace(ANCHOR, "    let _t = core::time::Duration::from_secs(1);\n" + ANCHOR)
    )
    assert run(["check", "--no-daemon", "--json", "--workspace", str(ws)]) == 1
    diags = json.loads(capsys.readouterr().out)
    assert [(d["source"], d["file"], d["line"], d["code"]) for d in diags] == [
        ("rustg-kernel", KERNELS, line, "E0433")
    ]
    assert run(["check", "--no-daemon", "--no-kernels", "--json", "--workspace", str(ws)]) == 0
    assert json.loads(capsys.readouterr().out) == []
