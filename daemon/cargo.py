"""Running cargo for the daemon: ``cargo check``/``clippy`` with JSON diagnostics.

The daemon's cargo uses its own target directory, so it never waits on (or blocks) the user's
own ``cargo build``. cargo and the rustc processes it spawns run in their own process group:
cancelling the job (a newer save made it stale) kills the whole group at once.
"""

from __future__ import annotations

import enum
import os
import re
import shutil
import signal
import subprocess
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import trio

from rustg.protocol import Diagnostic, Severity

from .errors import ToolError
from .rustc_diagnostics import BuildFinished, CompilerDiagnostic, dedupe, parse_cargo_line
from .tool_groups import ToolGroups

_STDERR_TAIL_LINES: Final = 40


class CheckOutcome(enum.Enum):
    CLEAN = "clean"  # built, no errors (warnings allowed)
    ERRORS = "errors"  # the user's code has errors
    TOOL_FAILED = "tool-failed"  # cargo itself failed (bad manifest, missing toolchain ...)


@dataclass(slots=True)
class CheckResult:
    outcome: CheckOutcome
    diagnostics: list[Diagnostic]
    duration_s: float
    stderr_tail: str = ""
    returncode: int = 0
    command: list[str] = field(default_factory=list)

    def summary(self) -> str:
        errors = sum(d.severity is Severity.ERROR for d in self.diagnostics)
        warnings = sum(d.severity is Severity.WARNING for d in self.diagnostics)
        if self.outcome is CheckOutcome.TOOL_FAILED:
            return f"cargo failed (exit {self.returncode})"
        return f"{errors} error(s), {warnings} warning(s)"


async def _lines(stream: trio.abc.ReceiveStream) -> AsyncIterator[bytes]:
    """A byte stream's lines, without their newlines; a last unterminated line too."""
    buffer = b""
    while chunk := await stream.receive_some(1 << 16):
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            yield line
    if buffer:
        yield buffer


def find_cargo() -> str:
    """$CARGO (as cargo's own subcommands and rust-analyzer honour it), else cargo on PATH,
    else rustup's default location: a service manager's PATH often lacks ~/.cargo/bin."""
    if cargo := os.environ.get("CARGO"):
        return cargo
    if found := shutil.which("cargo"):
        return found
    home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    candidate = home / "bin" / "cargo"
    return str(candidate) if candidate.is_file() else "cargo"


def cargo_command(subcommand: str, extra: tuple[str, ...] = ()) -> list[str]:
    return [
        find_cargo(),
        subcommand,
        "--workspace",
        "--all-targets",
        "--message-format=json-diagnostic-rendered-ansi"
        if os.environ.get("RUSTG_ANSI_RENDERED")
        else "--message-format=json",
        *extra,
    ]


def cargo_env(target_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["CARGO_TARGET_DIR"] = str(target_dir)
    env["CARGO_TERM_COLOR"] = "never"
    env["CARGO_TERM_PROGRESS_WHEN"] = "never"
    return env


_STDERR_LOCATION = re.compile(r"^\s*--> (?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+)", re.M)
_MANIFEST_PATH = re.compile(r"`(?P<path>/[^`]*Cargo\.toml)`")


def _manifest_failure(root: Path, stderr: str, generation: int) -> Diagnostic:
    """cargo failing before rustc runs (a broken manifest, a missing toolchain ...) is still the
    user's problem to see: one diagnostic, placed where cargo says (``--> file:line:col``, or
    the manifest it names), else on the workspace's Cargo.toml."""
    first = next((line for line in stderr.splitlines() if line.startswith("error")), "")
    file, line, column = "Cargo.toml", 1, 1
    if (where := _STDERR_LOCATION.search(stderr)) is not None:
        file, line, column = where["file"], int(where["line"]), int(where["col"])
    elif (named := _MANIFEST_PATH.search(stderr)) is not None:
        try:
            file = Path(named["path"]).relative_to(root).as_posix()
        except ValueError:
            pass
    if Path(file).is_absolute():
        try:
            file = Path(file).relative_to(root).as_posix()
        except ValueError:
            file, line, column = "Cargo.toml", 1, 1
    return Diagnostic(
        source="cargo",
        severity=Severity.ERROR,
        message=first.removeprefix("error: ") or "cargo failed",
        file=file,
        line=line,
        column=column,
        end_line=line,
        end_column=column + 1,
        rendered=stderr.strip(),
        generation=generation,
    )


async def run_check(
    root: Path,
    target_dir: Path,
    *,
    generation: int,
    subcommand: str = "check",
    extra_args: tuple[str, ...] = (),
    tools: ToolGroups | None = None,
) -> CheckResult:
    """Run cargo to completion (or until cancelled, which kills its process group).
    ``tools``: where its process group is recorded while it runs (see tool_groups)."""
    command = cargo_command(subcommand, extra_args)
    started = time.monotonic()
    try:
        process = await trio.lowlevel.open_process(
            command,
            cwd=root,
            env=cargo_env(target_dir),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise ToolError(f"cannot start {command[0]}: {exc}") from exc
    if tools is not None:
        tools.add(process.pid)

    diagnostics: list[Diagnostic] = []
    finished: BuildFinished | None = None
    stderr_tail: deque[str] = deque(maxlen=_STDERR_TAIL_LINES)

    async def pump_stdout() -> None:
        nonlocal finished
        assert process.stdout is not None
        async for line in _lines(process.stdout):
            parsed = parse_cargo_line(line, root, generation)
            if isinstance(parsed, CompilerDiagnostic):
                diagnostics.append(parsed.diagnostic)
            elif isinstance(parsed, BuildFinished):
                finished = parsed

    async def pump_stderr() -> None:
        assert process.stderr is not None
        async for line in _lines(process.stderr):
            stderr_tail.append(line.decode(errors="replace"))

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(pump_stdout)
            nursery.start_soon(pump_stderr)
        returncode = await process.wait()
    finally:
        if process.returncode is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            with trio.CancelScope(shield=True):
                await process.wait()
        if tools is not None:
            tools.remove(process.pid)

    diagnostics = dedupe(diagnostics)  # --all-targets reports a lib's warnings once per target
    stderr = "\n".join(stderr_tail)
    has_errors = any(d.severity is Severity.ERROR for d in diagnostics)
    if has_errors:
        outcome = CheckOutcome.ERRORS
    elif returncode == 0 and (finished is None or finished.success):
        outcome = CheckOutcome.CLEAN
    else:
        outcome = CheckOutcome.TOOL_FAILED
        diagnostics.append(_manifest_failure(root, stderr, generation))
    return CheckResult(
        outcome=outcome,
        diagnostics=diagnostics,
        duration_s=time.monotonic() - started,
        stderr_tail=stderr,
        returncode=returncode,
        command=command,
    )
