"""`make demo`: rustgd + the live feed on a copy of the bundled example workspace.

It copies examples/hello-gpu to a temporary directory (your checkout is never edited), starts
the daemon there, and plays a short scripted editing session — a type error, its fix, a
kill -9 of the daemon and a restart — printing what rg-watch shows after each step. In a
terminal it then leaves you in the live view (`rg-watch`) so you can edit the files yourself;
Ctrl-C stops everything. Non-interactively (CI, pipes) it exits after the script, non-zero if
anything did not behave as expected.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
from rich.console import Console
from rich.rule import Rule

from rustg import protocol as p
from rustg.cli.view import render_view

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LIB = "crates/app/src/lib.rs"
BROKEN = '\npub fn broken() -> u32 {\n    "not a number"\n}\n'


class Demo:
    def __init__(self, workspace: Path, env: dict[str, str], console: Console) -> None:
        self.workspace = workspace
        self.env = env
        self.console = console

    def tool(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / args[0]), *args[1:], "--workspace", str(self.workspace)],
            env=self.env, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip

    def settled(self, after: int = 0) -> dict[str, Any]:
        out = self.tool("rg-watch", "--once", "--json", "--after-generation", str(after))
        if out.returncode != 0:
            logs = list((Path(self.env["XDG_CACHE_HOME"]) / "rustg").glob("*/daemon.log"))
            tail = logs[0].read_text(errors="replace").splitlines()[-30:] if logs else []
            raise SystemExit(
                f"demo: rg-watch --once failed: {out.stderr}\n--- the daemon's log, last lines:\n"
                + "\n".join(tail)
            )
        doc: dict[str, Any] = json.loads(out.stdout)
        return doc

    def show(self, title: str, doc: dict[str, Any]) -> None:
        state = p.WorkspaceState(seq=doc["seq"], generation=doc["generation"])
        for job in doc["job_details"]:
            state.jobs[job["name"]] = p.JobInfo(**{**job, "state": p.JobState(job["state"])})
        diags = [msgspec.convert(d, p.Diagnostic) for d in doc["diagnostics"]]
        for d in diags:
            state.diagnostics.setdefault(d.source, {}).setdefault(d.file, []).append(d)
        state.restored = doc["restored"]

        def read_lines(rel: str) -> list[str] | None:
            try:
                return (self.workspace / rel).read_text().splitlines()
            except OSError:
                return None

        info_files = list((Path(self.env["XDG_RUNTIME_DIR"]) / "rustg").glob("*/daemon.json"))
        info = msgspec.json.decode(info_files[0].read_bytes(), type=p.DaemonInfo)
        self.console.print(Rule(title))
        self.console.print(
            render_view(state, info, connection="settled", now=time.time(),
                        read_lines=read_lines, workspace=str(self.workspace))
        )  # fmt: skip

    def expect(self, ok: bool, what: str) -> None:
        mark = "[green]✓[/]" if ok else "[bold red]✗[/]"
        self.console.print(f"{mark} {what}")
        if not ok:
            raise SystemExit(f"demo: expected {what}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-live", action="store_true", help="exit after the scripted session")
    args = parser.parse_args()
    console = Console(highlight=False)
    base = Path(tempfile.mkdtemp(prefix="rgdemo", dir="/tmp"))
    (base / "run").mkdir(mode=0o700)
    workspace = base / "hello-gpu"
    shutil.copytree(ROOT / "examples" / "hello-gpu", workspace,
                    ignore=shutil.ignore_patterns("target"))  # fmt: skip
    env = dict(os.environ, XDG_RUNTIME_DIR=str(base / "run"), XDG_CACHE_HOME=str(base / "cache"))
    demo = Demo(workspace, env, console)
    console.print(f"[bold]rustg demo[/] on a copy of examples/hello-gpu in {workspace}")
    try:
        started = demo.tool("rustgd", "start", timeout=120)
        demo.expect(started.returncode == 0, f"rustgd started ({started.stdout.strip()})")
        first = demo.settled()
        demo.show("initial cargo check", first)
        demo.expect(not first["diagnostics"], "the example workspace checks clean")

        original = (workspace / LIB).read_text()
        (workspace / LIB).write_text(original + BROKEN)
        broken = demo.settled(first["generation"] + 1)
        demo.show(f"after saving a type error in {LIB}", broken)
        errors = [d for d in broken["diagnostics"] if d["severity"] == "error"]
        demo.expect(
            [(d["file"], d["code"]) for d in errors] == [(LIB, "E0308")],
            "rustc's E0308 reported at the edited file",
        )

        lock = next((Path(env["XDG_RUNTIME_DIR"]) / "rustg").glob("*/daemon.lock"))
        pid = int(lock.read_text())
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.3)
        demo.expect(demo.tool("rustgd", "start").returncode == 0, "restarted after kill -9")
        restored = demo.settled(broken["generation"] + 1)
        demo.show("after kill -9 and restart (restored, then rechecked)", restored)
        demo.expect(len(restored["diagnostics"]) == len(broken["diagnostics"]), "state survived")

        (workspace / LIB).write_text(original)
        fixed = demo.settled(restored["generation"] + 1)
        demo.show("after fixing it", fixed)
        demo.expect(not fixed["diagnostics"], "the error cleared")

        if not args.no_live and sys.stdout.isatty():
            console.print(Rule("live"))
            console.print(f"Edit files under {workspace}; Ctrl-C to stop.")
            subprocess.run([str(BIN / "rg-watch"), "--workspace", str(workspace)], env=env,
                           check=False)  # fmt: skip
        return 0
    finally:
        demo.tool("rustgd", "stop", timeout=30)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
