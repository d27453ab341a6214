"""Real Rust workspaces for tests and benchmarks, copied somewhere they may be edited.

Two kinds:

* the bundled examples (``examples/<name>``): small workspaces we wrote, no external crates;
* Debian's copy of the regex 1.7 crate (``librust-regex-dev``): a real crate nobody here wrote,
  built offline against Debian's registry (``/usr/share/cargo/registry``) through the source
  replacement in ``scripts/offline-cargo-config.toml``.

Every function here is synchronous and cheap (a file copy); building is the caller's business,
with :func:`cargo_env` for an offline, colourless, deterministic cargo.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = REPO_ROOT / "examples"
OFFLINE_CARGO_CONFIG = REPO_ROOT / "scripts" / "offline-cargo-config.toml"
DEBIAN_REGISTRY = Path("/usr/share/cargo/registry")

REGEX_CRATE = "regex-1.7.1"
# What `cargo check --all-targets` on regex needs from the registry: its dependencies and its
# dev-dependencies (lazy_static, quickcheck, rand), with the Debian packages that provide them.
REGEX_REQUIRED_CRATES: Mapping[str, str] = {
    "regex-1.7.1": "librust-regex-dev",
    "regex-syntax-0.6.27": "librust-regex-syntax-dev",
    "aho-corasick-0.7.19": "librust-aho-corasick-dev",
    "memchr-2.5.0": "librust-memchr-dev",
    "lazy_static-1.4.0": "librust-lazy-static-dev",
    "quickcheck-1.0.3": "librust-quickcheck-dev",
    "rand-0.8.5": "librust-rand-dev",
}
# Pins the versions regex resolved to when this was written, so a copy builds the same
# dependency graph whatever other librust-*-dev packages get installed later (the registry is
# shared with the lexer corpus, which installs hundreds of crates).
REGEX_LOCKFILE = Path(__file__).with_name("regex-1.7.1.Cargo.lock")

# Files that make no sense in a copy: build output, and the `.cargo-checksum.json` that marks a
# crate as a registry entry. cargo reads that file only for crates inside a directory source, and
# Debian's lists no files anyway, so keeping it would not break a build; it goes because the copy
# is a path workspace whose files the tests edit, not a registry entry.
_NEVER_COPIED = ("target", ".cargo-checksum.json")


def copy_example(dest: Path, name: str = "hello-gpu") -> Path:
    """Copy ``examples/<name>`` (without build output) to ``dest/examples/<name>`` and return
    that path. The repository's ``rust/`` crates come along to ``dest/rust`` when they exist,
    so an example's path dependencies (``../../rust/rustg``) resolve in the copy too."""
    source = EXAMPLES_DIR / name
    if not (source / "Cargo.toml").is_file():
        raise FileNotFoundError(f"no example workspace {name!r} under {EXAMPLES_DIR}")
    workspace = dest / "examples" / name
    shutil.copytree(source, workspace, ignore=shutil.ignore_patterns(*_NEVER_COPIED))
    rust = EXAMPLES_DIR.parent / "rust"
    if rust.is_dir() and not (dest / "rust").exists():
        shutil.copytree(rust, dest / "rust", ignore=shutil.ignore_patterns(*_NEVER_COPIED))
    return workspace


def missing_regex_crates() -> list[str]:
    """Debian packages still needed for :func:`copy_regex` (empty when all are installed)."""
    return sorted(
        package
        for crate, package in REGEX_REQUIRED_CRATES.items()
        if not (DEBIAN_REGISTRY / crate / "Cargo.toml").is_file()
    )


def require_regex() -> Path:
    """Skip the calling test unless Debian's regex sources and dev-dependencies are installed.

    Returns the pristine source directory (read-only: use :func:`copy_regex` to build or edit).
    """
    missing = missing_regex_crates()
    if missing:
        pytest.skip(
            f"Debian's regex 1.7 crate sources are not all installed under {DEBIAN_REGISTRY} "
            f"(missing: {', '.join(missing)}); `make setup` installs them"
        )
    return DEBIAN_REGISTRY / REGEX_CRATE


def copy_regex(dest: Path) -> Path:
    """Copy Debian's regex 1.7.1 crate to ``dest/regex`` as a standalone, offline workspace.

    The copy builds with ``cargo check --all-targets`` (library, its tests, examples) without
    network: its ``.cargo/config.toml`` replaces crates.io with Debian's registry, a
    ``[workspace]`` table stops cargo from looking for a parent workspace above ``dest``, and a
    pinned ``Cargo.lock`` fixes the dependency versions. Nothing is stripped: the
    dev-dependencies come from Debian packages (scripts/debian-crates.txt).
    """
    source = DEBIAN_REGISTRY / REGEX_CRATE
    missing = missing_regex_crates()
    if missing:
        raise FileNotFoundError(
            f"Debian's regex crate is not fully installed (missing {', '.join(missing)}); "
            "run `make setup`"
        )
    workspace = dest / "regex"
    # copyfile-based copy: the files get fresh mtimes and the writable mode of a checkout
    # (Debian's are owned by root, and their mtimes are all 2006).
    shutil.copytree(
        source,
        workspace,
        ignore=shutil.ignore_patterns(*_NEVER_COPIED),
        copy_function=shutil.copyfile,
    )
    manifest = workspace / "Cargo.toml"
    text = manifest.read_text()
    if "\n[workspace]" not in text:
        manifest.write_text(text.rstrip("\n") + "\n\n[workspace]\n")
    (workspace / ".cargo").mkdir()
    shutil.copyfile(OFFLINE_CARGO_CONFIG, workspace / ".cargo" / "config.toml")
    shutil.copyfile(REGEX_LOCKFILE, workspace / "Cargo.lock")
    return workspace


# Inherited variables that would make a test's cargo run differ from the next machine's.
_UNSET = (
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTC_WRAPPER",
    "CARGO_BUILD_RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_INCREMENTAL",
    "CARGO_TERM_VERBOSE",
)


def cargo_env(
    target_dir: Path | None = None, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Environment for an offline, deterministic cargo run.

    ``base`` defaults to ``os.environ``; flags and wrappers that change what cargo builds are
    removed, output is plain (no colour, no progress bar), the network is off.
    """
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _UNSET}
    env.update(
        CARGO_NET_OFFLINE="true",
        CARGO_TERM_COLOR="never",
        CARGO_TERM_PROGRESS_WHEN="never",
        RUST_BACKTRACE="0",
    )
    if target_dir is not None:
        env["CARGO_TARGET_DIR"] = str(target_dir)
    return env
