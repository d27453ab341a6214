"""``rg-precommit``: a pre-commit hook that checks what is *staged*, not the working tree.

For every staged ``.rs`` file it reads the staged blob (``git show :path``) and checks:

* it is valid UTF-8 (rustc rejects anything else);
* it is formatted as ``rustfmt`` would format it (rustfmt run on the staged text, honouring the
  workspace's rustfmt.toml), with a unified diff when not;
* it lexes and its delimiters balance (the rustg engine's syntax diagnostics);
* the linter (``cargo g lint``'s rules, levels and user rules) finds nothing at deny level: the
  whole working tree is linted with the staged blobs in place of the files (cross-file rules
  see the workspace), findings are reported for staged files; warnings are shown, not fatal.

rustfmt runs in the edition of each file's crate (its Cargo.toml) unless ``--edition`` says.

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
from rich.markup import escape

from .errors import EXIT_FAILURE, EXIT_OK, CliError, main_wrapper


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    check: str  # "utf8", "rustfmt", "syntax", "lint"
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


def check_lint(repo: Path, staged: dict[str, bytes]) -> tuple[list[Problem], list[Problem]]:
    """(deny-level findings, warnings) in the staged files, linted within the working tree."""
    from rustg.gpu.lint.model import Level
    from rustg.gpu.lint.report import to_diagnostics

    from .lint_commands import collect_files, workspace_lint_engine

    sources: dict[str, bytes] = {}
    for rel, path in collect_files(repo, []).items():
        if rel not in staged:
            try:
                sources[rel] = path.read_bytes()
            except OSError:
                continue  # deleted while we looked: not ours to judge
    sources.update(staged)
    try:
        engine = workspace_lint_engine(repo, "cpu")
    except CliError as exc:  # the lint configuration is broken: that blocks the commit
        return [Problem("rustg-lint.toml", "lint", str(exc))], []
    denied: list[Problem] = []
    warned: list[Problem] = []
    for rel, findings in sorted(engine.lint_sources(sources).items()):
        if rel not in staged or not findings:
            continue
        for finding, diag in zip(
            findings, to_diagnostics(rel, sources[rel], findings), strict=True
        ):
            problem = Problem(rel, "lint", f"{diag.message} [{diag.code}]", diag.line, diag.column)
            (denied if finding.level is Level.DENY else warned).append(problem)
    return denied, warned


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="rg-precommit",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--edition", default=None, help="Rust edition for rustfmt (default: each file's crate's)"
    )
    parser.add_argument("--no-fmt", action="store_true", help="skip the rustfmt check")
    parser.add_argument("--no-lint", action="store_true", help="skip the lint check")
    args = parser.parse_args(argv)
    from rustg.gpu.editions import EditionMap

    repo = Path(_git(["rev-parse", "--show-toplevel"], Path.cwd()).decode().strip())
    editions = EditionMap(repo)
    problems: list[Problem] = []
    warnings: list[Problem] = []
    files = staged_rust_files(repo)
    valid: dict[str, bytes] = {}
    for path in files:
        content = _git(["show", f":{path}"], repo)
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(Problem(path, "utf8", f"not valid UTF-8 at byte {exc.start}"))
            continue
        valid[path] = content
        problems.extend(check_syntax(path, content, repo))
        edition = args.edition or str(int(editions.edition_of(path)))
        if not args.no_fmt and (problem := check_rustfmt(path, text, repo, edition)):
            problems.append(problem)
    if valid and not args.no_lint:
        denied, warnings = check_lint(repo, valid)
        problems.extend(denied)
    if args.json:
        doc = {
            "files": files,
            "problems": [asdict(x) for x in problems],
            "warnings": [asdict(x) for x in warnings],
        }
        print(json.dumps(doc, indent=2))
    else:
        console = Console(highlight=False)
        for problem in problems:
            where = (
                f"{problem.file}:{problem.line}:{problem.column}" if problem.line else problem.file
            )
            console.print(f"[bold red]{problem.check}[/] {where}: {escape(problem.message)}")
            if problem.detail:
                console.print(problem.detail, markup=False)
        for warning in warnings:
            where = f"{warning.file}:{warning.line}:{warning.column}"
            console.print(f"[yellow]lint warning[/] {where}: {escape(warning.message)}")
        verdict = "[green]ok[/]" if not problems else f"[red]{len(problems)} problem(s)[/]"
        console.print(f"rg-precommit: {len(files)} staged Rust file(s), {verdict}")
    return EXIT_FAILURE if problems else EXIT_OK


def main() -> None:
    main_wrapper("rg-precommit", run)


if __name__ == "__main__":
    main()
