"""Recorded cargo output for the diagnostics parser: the crates, how they are built, the replay.

Each fixture is a tiny real crate (or workspace) under ``tests/fixtures/cargo/crates/<name>``
with deliberate mistakes, and the stdout of one real cargo run on it under
``tests/fixtures/cargo/recorded/<name>.jsonl``. Tests replay the recording, so they need no
cargo and run in milliseconds; a slow test re-runs cargo to notice when the toolchain's output
drifts from the recording.

Relocation: cargo writes absolute paths (``manifest_path``, ``package_id``, artifact file
names, files outside the workspace). Recording happens in a scratch copy; its absolute path is
replaced by ``@WORKSPACE@`` and the scratch target dir by ``@TARGET@``, and :func:`load` puts
any paths the test likes back in.

Expected diagnostics are written in the fixture sources, rustc-UI-test style: a comment
``//~ error[E0308] warning[unused_mut]`` (``#~`` in TOML) lists what rustc reports on that line
after macro mapping, one entry per diagnostic, ``error`` without a code for code-less ones.

Re-record (after changing a fixture or the toolchain)::

    .venv/bin/python -m tests.support.cargo_fixtures [NAME ...]
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .rust_workspaces import OFFLINE_CARGO_CONFIG, REPO_ROOT, cargo_env

FIXTURES_DIR = REPO_ROOT / "tests" / "fixtures" / "cargo"
CRATES_DIR = FIXTURES_DIR / "crates"
RECORDED_DIR = FIXTURES_DIR / "recorded"
WORKSPACE_PLACEHOLDER = "@WORKSPACE@"
TARGET_PLACEHOLDER = "@TARGET@"

# (file, line, "error" | "warning", code or "")
Expectation = tuple[str, int, str, str]

_ANNOTATION = re.compile(r"(?://|#)~((?:\s+(?:error|warning)(?:\[[^\]]+\])?)+)\s*$")
_ENTRY = re.compile(r"(error|warning)(?:\[([^\]]+)\])?")


@dataclass(frozen=True)
class CargoFixture:
    name: str
    subcommand: str = "check"
    # Depends on crates from Debian's registry (built through OFFLINE_CARGO_CONFIG).
    registry: bool = False
    # Build with the default `target/` inside the workspace, so generated code lands there.
    target_in_workspace: bool = False

    @property
    def crate_dir(self) -> Path:
        return CRATES_DIR / self.name

    @property
    def recording(self) -> Path:
        return RECORDED_DIR / f"{self.name}.jsonl"

    def command(self) -> list[str]:
        config = ["--config", str(OFFLINE_CARGO_CONFIG)] if self.registry else []
        return [
            "cargo",
            *config,
            self.subcommand,
            "--workspace",
            "--all-targets",
            "--message-format=json",
        ]

    def run(self, workspace: Path, target_dir: Path) -> bytes:
        """Run the fixture's cargo command in ``workspace`` (a copy); return its stdout."""
        env = cargo_env(None if self.target_in_workspace else target_dir)
        result = subprocess.run(
            self.command(), cwd=workspace, env=env, capture_output=True, check=False, timeout=300
        )
        if not result.stdout.rstrip().endswith(b"}"):
            raise RuntimeError(
                f"cargo produced no JSON for fixture {self.name}:\n{result.stderr.decode()}"
            )
        return result.stdout

    def copy_to(self, dest: Path) -> Path:
        workspace = dest / self.name
        shutil.copytree(
            self.crate_dir, workspace, ignore=shutil.ignore_patterns("target", "Cargo.lock")
        )
        lock = self.crate_dir / "Cargo.lock"
        if lock.exists():
            shutil.copyfile(lock, workspace / "Cargo.lock")
        return workspace

    def expectations(self) -> Counter[Expectation]:
        """What the ``//~`` annotations in the fixture's files say rustc reports."""
        expected: Counter[Expectation] = Counter()
        for path in sorted(self.crate_dir.rglob("*")):
            if path.suffix not in (".rs", ".toml") or "target" in path.parts:
                continue
            relative = path.relative_to(self.crate_dir).as_posix()
            for number, text in enumerate(path.read_text().splitlines(), start=1):
                match = _ANNOTATION.search(text)
                if match:
                    for severity, code in _ENTRY.findall(match.group(1)):
                        expected[(relative, number, severity, code)] += 1
        return expected


FIXTURES: dict[str, CargoFixture] = {
    f.name: f
    for f in (
        CargoFixture("type-errors"),
        CargoFixture("lints-and-tests"),
        CargoFixture("macros"),
        CargoFixture("registry-macro", registry=True),
        CargoFixture("generated", target_in_workspace=True),
        CargoFixture("clippy-lints", subcommand="clippy"),
    )
}


def _json_string_body(path: Path) -> str:
    """``path`` as it appears inside a JSON string (quotes and backslashes escaped)."""
    return json.dumps(str(path), ensure_ascii=False)[1:-1]


def load(fixture: CargoFixture, workspace: Path, target_dir: Path | None = None) -> list[bytes]:
    """The recorded stdout lines, as if cargo had run in ``workspace`` with ``target_dir``."""
    text = fixture.recording.read_text(encoding="utf-8")
    text = text.replace(WORKSPACE_PLACEHOLDER, _json_string_body(workspace))
    text = text.replace(TARGET_PLACEHOLDER, _json_string_body(target_dir or workspace / "target"))
    return [line.encode() for line in text.splitlines()]


def record(fixture: CargoFixture) -> Path:
    """Run cargo on a scratch copy of ``fixture`` and save its relocatable stdout."""
    with tempfile.TemporaryDirectory(prefix="rustg-record-") as scratch:
        root = Path(scratch).resolve()
        workspace = fixture.copy_to(root)
        target = root / "target"
        stdout = fixture.run(workspace, target).decode()
        # The target dir first: it is not under the workspace, but share a prefix with it.
        stdout = stdout.replace(_json_string_body(target), TARGET_PLACEHOLDER)
        stdout = stdout.replace(_json_string_body(workspace), WORKSPACE_PLACEHOLDER)
        if str(root) in stdout:
            raise RuntimeError(f"{fixture.name}: scratch path left in output after relocation")
        RECORDED_DIR.mkdir(parents=True, exist_ok=True)
        fixture.recording.write_text(stdout, encoding="utf-8")
        # Keep the lockfile cargo wrote, so a later re-run resolves the same versions.
        shutil.copyfile(workspace / "Cargo.lock", fixture.crate_dir / "Cargo.lock")
    return fixture.recording


def toolchain() -> str:
    tools = ("rustc", "cargo", "clippy-driver")
    return "".join(
        subprocess.run([tool, "-V"], capture_output=True, text=True, check=True).stdout
        for tool in tools
    )


def main(argv: list[str]) -> int:
    names = argv or list(FIXTURES)
    for name in names:
        path = record(FIXTURES[name])
        print(f"recorded {path.relative_to(REPO_ROOT)}")
    (RECORDED_DIR / "TOOLCHAIN").write_text(toolchain())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
