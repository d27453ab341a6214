"""``cargo g``: the rustg cargo subcommand.

Talks to the workspace daemon when one runs (results come hot from it), works standalone when
none does. cargo runs us as ``cargo-g g ARGS``; both that and a direct ``cargo-g ARGS`` work.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import msgspec
import trio
from rich.console import Console
from rich.table import Table

from rustg import protocol as p
from rustg.daemon.cargo import CheckOutcome, run_check
from rustg.daemon.config import load_config
from rustg.daemon.workspace import WorkspacePaths

from .cache_commands import add_cache_commands
from .daemon_client import (
    add_tcp_options,
    add_workspace_options,
    apply_manifest_path,
    open_daemon_client,
    resolve_paths,
    running_daemon,
    use_tcp,
)
from .engine_commands import add_engine_commands
from .errors import EXIT_FAILURE, EXIT_OK, CliError, main_wrapper
from .fmt_commands import add_fmt_commands
from .follow import Update, follow
from .lint_commands import add_lint_commands


def _print_diagnostics(console: Console, diagnostics: list[p.Diagnostic], as_json: bool) -> int:
    errors = sum(d.severity is p.Severity.ERROR for d in diagnostics)
    if as_json:
        print(json.dumps([msgspec.to_builtins(d) for d in diagnostics], indent=2))
        return EXIT_FAILURE if errors else EXIT_OK
    for diag in diagnostics:
        if diag.rendered:
            console.print(diag.rendered.rstrip(), highlight=False, markup=False)
        else:
            code = f"[{diag.code}]" if diag.code else ""
            console.print(
                f"{diag.severity.value}{code}: {diag.message}\n  --> "
                f"{diag.file}:{diag.line}:{diag.column}",
                highlight=False,
                markup=False,
            )
        console.print()
    warnings = sum(d.severity is p.Severity.WARNING for d in diagnostics)
    style = "bold red" if errors else "bold green"
    console.print(f"[{style}]{errors} error(s)[/], {warnings} warning(s)")
    return EXIT_FAILURE if errors else EXIT_OK


def cmd_check(args: argparse.Namespace, console: Console) -> int:
    """Through the daemon when one runs (its state holds the kernels job's results too);
    standalone: cargo check, then the kernels checked to PTX (cached), unless --no-kernels."""
    paths = resolve_paths(args.workspace)
    if not args.kernels and not args.no_daemon and running_daemon(paths) is not None:
        return _check_through_daemon(paths, console, args.json)
    if not args.no_kernels:
        return cmd_build(args, console)
    config = load_config(paths.root)
    paths.ensure()
    if not args.json:
        console.print(f"[dim]no daemon for {paths.root}; running cargo {config.check_command}[/]")
    result = trio.run(
        lambda: run_check(
            paths.root, paths.target_dir, generation=0, subcommand=config.check_command,
            extra_args=config.check_args,
        )
    )  # fmt: skip
    code = _print_diagnostics(console, result.diagnostics, args.json)
    if result.outcome is CheckOutcome.TOOL_FAILED and not args.json:
        console.print(result.stderr_tail, markup=False, highlight=False)
    return code


def _check_through_daemon(paths: WorkspacePaths, console: Console, as_json: bool) -> int:
    async def main() -> p.WorkspaceState:
        async with open_daemon_client(paths) as client:
            accepted = await client.request(p.RunJob(job="check"))
        assert isinstance(accepted, p.JobAccepted)
        settled: list[p.WorkspaceState] = []

        def on_update(update: Update) -> bool:
            if update.state is not None and update.state.idle_at(accepted.generation):
                settled.append(update.state)
                return True
            return False

        await follow(paths, on_update, reconnect=False)
        return settled[0]

    state = trio.run(main)
    return _print_diagnostics(console, list(state.iter_diagnostics()), as_json)


def _kernel_table(builds: list[Any]) -> Table:
    builds = [b for b in builds if b.ok]
    many = len(builds) > 1  # one crate: named in the title, not on every row
    title = "kernels (target/rustg)" if many else f"kernels of {builds[0].crate} (target/rustg)"
    columns = ["kernel", "arch", "regs", "smem", "spill", "source", "cache"]
    table = Table(*(["crate"] if many else []), *columns, title=title, box=None,
                  header_style="bold", pad_edge=False)  # fmt: skip
    for column in table.columns:
        column.no_wrap = True
        if column.header in ("regs", "smem", "spill"):
            column.justify = "right"
    for build in builds:
        for kernel in build.extraction.kernels:
            for arch in build.archs:
                r = next((x for x in arch.resources if x.kernel == kernel.name), None)
                # Per kernel: each one is its own compile unit (daemon/kernels/build.py).
                unit = next((u for u in arch.units if u.kernel == kernel.name), None)
                table.add_row(
                    *([build.crate] if many else []), kernel.name, arch.arch,
                    str(r.registers) if r else "-", f"{r.shared_bytes} B" if r else "-",
                    str(r.spill_store_bytes + r.spill_load_bytes) if r else "-",
                    f"{kernel.file}:{kernel.line}", "hit" if unit and unit.cached else "built",
                )  # fmt: skip
    return table


def cmd_build(args: argparse.Namespace, console: Console) -> int:
    """`cargo g build` / `check`: cargo for the host side, then the kernel pipeline."""
    from rustg.daemon.cache import Cache, load_cache_config
    from rustg.daemon.kernels.workspace import build_workspace_kernels

    paths = resolve_paths(args.workspace)
    config = load_config(paths.root)
    subcommand = "build" if args.command == "build" else config.check_command
    if not args.json:
        console.print(f"[bold]cargo {subcommand}[/] (host code)")
    target = paths.root / "target"
    host = trio.run(
        lambda: run_check(paths.root, target, generation=0, subcommand=subcommand,
                          extra_args=config.check_args)
    )  # fmt: skip
    diagnostics = list(host.diagnostics)
    paths.ensure()
    with Cache.open(paths, load_cache_config(paths.root)) as cache:
        builds = build_workspace_kernels(paths.root, cache=cache)
    # Kernels compile for the host too: rustc reports the same error in both builds. Show it once.
    seen = {(d.file, d.line, d.column, d.code, d.message) for d in diagnostics}
    for build in builds:
        diagnostics.extend(
            d
            for d in build.diagnostics
            if (d.file, d.line, d.column, d.code, d.message) not in seen
        )
    code = _print_diagnostics(console, diagnostics, args.json)
    if not args.json and any(b.ok for b in builds):
        console.print(_kernel_table(builds))
        for build in builds:
            if build.manifest is not None:
                console.print(f"[dim]{build.crate}: {build.manifest} ({build.seconds:.2f} s)[/]")
    elif not args.json:
        console.print("[dim]no #\\[rustg::kernel] in this workspace[/]")  # \\[ escapes rich markup
    return code


def cmd_status(args: argparse.Namespace, console: Console) -> int:
    from .rustgd import cmd_status as rustgd_status

    return rustgd_status(resolve_paths(args.workspace), console, args.json)


def _probe(command: list[str]) -> str | None:
    if shutil.which(command[0]) is None:
        return None
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout else None


def cmd_doctor(args: argparse.Namespace, console: Console) -> int:
    checks: list[dict[str, Any]] = []

    def check(name: str, value: str | None, *, required: bool, role: str, fix: str = "") -> None:
        """One row: ``role`` says what the thing is for, ``fix`` what to do when it is not ok."""
        status = "ok" if value else ("missing" if required else "absent")
        checks.append({"check": name, "status": status, "found": value, "role": role, "fix": fix})

    check("cargo", _probe(["cargo", "--version"]), required=True,
          role="builds the host side", fix="install Rust (rustup.rs)")  # fmt: skip
    check("rustc (stable)", _probe(["rustc", "--version"]), required=True,
          role="host compiler", fix="install Rust (rustup.rs)")  # fmt: skip
    check("rustc (nightly)", _probe(["rustc", "+nightly", "--version"]), required=False,
          role="compiles kernels to PTX",
          fix="`rustup toolchain install nightly`, or stable with RUSTC_BOOTSTRAP=1")  # fmt: skip
    targets = subprocess.run(
        ["rustc", "--print", "target-list"], capture_output=True, text=True, check=False
    ).stdout if shutil.which("rustc") else ""  # fmt: skip
    nvptx = "nvptx64-nvidia-cuda" if "nvptx64-nvidia-cuda" in targets.split() else None
    check("nvptx64 target", nvptx, required=False, role="rustc's PTX backend",
          fix="`rustup target add nvptx64-nvidia-cuda --toolchain nightly`")  # fmt: skip
    check("rustfmt", _probe(["rustfmt", "--version"]), required=False,
          role="cargo g fmt delegates to it", fix="`rustup component add rustfmt`")  # fmt: skip
    check("ptxas", _probe(["ptxas", "--version"]) and shutil.which("ptxas"), required=False,
          role="assembles and checks PTX (cubin, fatbin) without a GPU",
          fix="install the CUDA toolkit; without it PTX is built but not assembled")  # fmt: skip
    gpu = _probe(["nvidia-smi", "--query-gpu=name,compute_cap", "--format=csv,noheader"])
    check("NVIDIA GPU", gpu, required=False, role="runs kernels and the CUDA engine backend",
          fix="none needed: kernels run in host emulation, the engine on the CPU")  # fmt: skip
    check("engine backend", _engine_backend(), required=True,
          role="where lexing, items and lint run (RUSTG_BACKEND=cpu|cuda|auto)",
          fix="RUSTG_BACKEND is invalid: use cpu, cuda or auto")  # fmt: skip
    check("redis-server", shutil.which("redis-server"), required=False,
          role="the shared cache tier (optional)", fix="`apt install redis-server`")  # fmt: skip
    try:
        paths = resolve_paths(args.workspace)
        status = running_daemon(paths)
        daemon = f"pid {status.daemon.pid}, generation {status.generation}" if status else None
    except (CliError, Exception):  # doctor reports, it does not fail on the thing it diagnoses
        daemon = None
    check("rustgd daemon", daemon, required=False, role="keeps this workspace hot",
          fix="`rustgd start` in the workspace")  # fmt: skip
    try:
        from rustg.daemon.cache import Cache, load_cache_config

        with Cache.open(paths, load_cache_config(paths.root)) as cache:
            for tier, state, detail in cache.health():
                ok = state == "ok"
                fix = "" if ok else f"{state}: {detail}"
                check(f"cache: {tier}", detail if ok else None, required=False,
                      role="kernel build cache", fix=fix)  # fmt: skip
    except Exception as exc:  # doctor reports, it does not fail on the thing it diagnoses
        check("cache", None, required=False, role="kernel build cache", fix=str(exc))
    if args.json:
        print(json.dumps(checks, indent=2))
    else:
        table = Table("check", "status", "found", "note", title="cargo g doctor")
        colours = {"ok": "green", "missing": "red", "absent": "yellow"}
        for row in checks:
            colour = colours[row["status"]]
            note = row["role"] if row["status"] == "ok" else f"[bold]{row['fix'] or row['role']}[/]"
            table.add_row(row["check"], f"[{colour}]{row['status']}[/]", row["found"] or "", note)
        console.print(table)
    return EXIT_FAILURE if any(c["status"] == "missing" for c in checks) else EXIT_OK


def _engine_backend() -> str | None:
    """E.g. "auto: CPU (no CUDA driver or GPU)"; None when RUSTG_BACKEND is invalid."""
    from rustg.gpu.backend import Backend, BackendKind
    from rustg.gpu.errors import BackendUnavailable

    try:
        backend = Backend()
    except BackendUnavailable:
        return None
    usable, why = backend.cuda_status()
    if backend.kind is BackendKind.CPU:
        return "cpu"
    if backend.kind is BackendKind.CUDA:
        return f"cuda ({why})" if usable else f"cuda, but {why}: engine calls will fail"
    return f"auto: CUDA for workspace-wide work ({why})" if usable else f"auto: CPU ({why})"


def _parser() -> tuple[argparse.ArgumentParser, dict[str, Callable[..., int]]]:
    parser = argparse.ArgumentParser(prog="cargo g", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    handlers: dict[str, Callable[..., int]] = {}

    def add(name: str, handler: Callable[..., int], help: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help)
        add_workspace_options(cmd)
        cmd.add_argument("--json", action="store_true", help="machine-readable output")
        add_tcp_options(cmd)
        handlers[name] = handler
        return cmd

    check = add("check", cmd_check, "cargo check with rustg's diagnostics (via the daemon if up)")
    check.add_argument("--no-daemon", action="store_true", help="run standalone")
    check.add_argument(
        "--kernels", action="store_true", help="check the kernels here and now, even with a daemon"
    )
    check.add_argument("--no-kernels", action="store_true", help="cargo check only (standalone)")
    add("build", cmd_build, "cargo build, then every kernel to PTX/cubin/fatbin per arch")
    add("status", cmd_status, "daemon status for this workspace")
    add("doctor", cmd_doctor, "toolchains, GPU, cache and daemon: what is there, what is not")
    add_cache_commands(sub, handlers)
    add_engine_commands(sub, handlers)
    add_fmt_commands(sub, handlers)
    add_lint_commands(sub, handlers)
    return parser, handlers


def run(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["g"]:  # invoked by cargo as `cargo-g g ...`
        argv = argv[1:]
    parser, handlers = _parser()
    args = parser.parse_args(argv)
    apply_manifest_path(args)
    use_tcp(getattr(args, "tcp", None), getattr(args, "server_key", None))
    return handlers[args.command](args, Console(highlight=False))


def main() -> None:
    main_wrapper("cargo g", run)


if __name__ == "__main__":
    main()
