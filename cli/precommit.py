"""``rg-precommit``: a pre-commit hook that checks what is *staged*, not the working tree.

For every staged ``.rs`` file it reads the staged blob (``git show :path``) and checks:

* it is valid UTF-8 (rustc rejects anything else);
* it is formatted as ``rustfmt`` would format it (rustfmt run on the staged text, honouring the
  workspace's rustfmt.toml), with a unified diff when not;
* it lexes and its delimiters balance (the rustg engine's syntax diagnostics), when the engine
  is installed.

Exit 0 when everything passes, 1 when something fails, 2 on usage errors. ``--json`` for tools.
Install: ``ln -s "$(which rg-precommit)" .git/hooks/pre-commit``.
"""

from __future__ import annotations

import argparse
import difflib
import json
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console

from .errors import EXIT_FAILURE, EXIT_OK, CliError, main_wrapper


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    check: str  # "utf8", "rustfmt", "syntax"
    message: str
    line: int = 0
    column: int = 0
    detail: str = ""


def _git(args: list[str], cwd: Path) -> bytes:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except OSError as exc:
        raise CliError(f"cannot run git: {exc}", 2) from exc
    if out.returncode != 0:
        raise CliError(f"git {' '.join(args)} failed: {out.stderr.decode(errors='replace')}", 2)
    return out.stdout


def staged_rust_files(repo: Path) -> list[str]:
    raw = _git(["diff", "--cached", "--name-only", "--diff-filter=ACMR", "-z"], repo)
    return sorted(p for p in raw.decode().split("\0") if p.endswith(".rs"))


def check_rustfmt(path: str, text: str, repo: Path, edition: str) -> Problem | None:
    try:
        out = subprocess.run(
            ["rustfmt", "--edition", edition, "--emit", "stdout", "--quiet"],
            input=text.encode(),
            cwd=(repo / path).parent if (repo / path).parent.is_dir() else repo,
            capture_output=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CliError(f"cannot run rustfmt: {exc}", 2) from exc
    if out.returncode != 0:
        return Problem(path, "rustfmt", "rustfmt could not parse the staged file",
                       detail=out.stderr.decode(errors="replace"))  # fmt: skip
    formatted = out.stdout.decode()
    if formatted == text:
        return None
    diff = "".join(
        difflib.unified_diff(
            text.splitlines(keepends=True), formatted.splitlines(keepends=True),
            f"a/{path} (staged)", f"b/{path} (rustfmt)",
        )
    )  # fmt: skip
    return Problem(path, "rustfmt", "not formatted as rustfmt would (run `cargo fmt`)", detail=diff)


def check_syntax(path: str, content: bytes, repo: Path | None = None) -> list[Problem]:
    from rustg.gpu.editions import EditionMap
    from rustg.gpu.hot import HotWorkspace

    # Lexed in the edition of the crate the staged file belongs to (the worktree's manifests).
    editions = EditionMap(repo if repo is not None else Path.cwd())
    report = HotWorkspace(edition_of=editions.edition_of).update(path, content)
    return [Problem(path, "syntax", d.message, d.line, d.column) for d in report.diagnostics]


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="rg-precommit",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--edition", default="2021", help="Rust edition for rustfmt")
    parser.add_argument("--no-fmt", action="store_true", help="skip the rustfmt check")
    args = parser.parse_args(argv)
    repo = Path(_git(["rev-parse", "--show-toplevel"], Path.cwd()).decode().strip())
    problems: list[Problem] = []
    files = staged_rust_files(repo)
    for path in files:
        content = _git(["show", f":{path}"], repo)
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(Problem(path, "utf8", f"not valid UTF-8 at byte {exc.start}"))
            continue
        problems.extend(check_syntax(path, content, repo))
        if not args.no_fmt and (problem := check_rustfmt(path, text, repo, args.edition)):
            problems.append(problem)
    if args.json:
        print(json.dumps({"files": files, "problems": [asdict(x) for x in problems]}, indent=2))
    else:
        console = Console(highlight=False)
        for problem in problems:
            where = (
                f"{problem.file}:{problem.line}:{problem.column}" if problem.line else problem.file
            )
            console.print(f"[bold red]{problem.check}[/] {where}: {problem.message}")
            if problem.detail:
                console.print(problem.detail, markup=False)
        verdict = "[green]ok[/]" if not problems else f"[red]{len(problems)} problem(s)[/]"
        console.print(f"rg-precommit: {len(files)} staged Rust file(s), {verdict}")
    return EXIT_FAILURE if problems else EXIT_OK


def main() -> None:
    main_wrapper("rg-precommit", run)


if __name__ == "__main__":
    main()
