"""Shared fixtures for the engine's tests: the Debian corpus, its bytes, its CPU token arrays.

Session-scoped so that the corpus is read and lexed once per test run, whichever engine tests
(lexer, token tree, item index) need it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from rustg.gpu.lexer import lex_cpu
from rustg.gpu.sources import SourceSet, read_sources
from rustg.gpu.tokens import TokenArrays

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS_ROOT = Path(os.environ.get("RUSTG_CORPUS_ROOT", "/usr/share/cargo/registry"))
#: The issue's floor: the corpus must be real-world sized to mean anything.
MIN_CORPUS_FILES = 2000


def cuda_available() -> bool:
    """A real GPU with the CUDA backend's packages (never true under the simulator)."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return False
    try:
        from numba import cuda
    except ImportError:
        return False
    try:
        return bool(cuda.is_available())  # type: ignore[no-untyped-call]
    except Exception:  # a broken driver install is "no GPU" for the test suite
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    if gpu_items and not cuda_available():
        skip = pytest.mark.skip(reason="needs an NVIDIA GPU with numba-cuda and CuPy")
        for item in gpu_items:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def corpus_paths() -> list[Path]:
    """Every .rs file of the corpus, in scripts/corpus.sh's order."""
    if not CORPUS_ROOT.is_dir():
        pytest.skip(f"{CORPUS_ROOT} missing: run scripts/setup.sh")
    out = subprocess.run(
        [str(REPO_ROOT / "scripts" / "corpus.sh")],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "RUSTG_CORPUS_ROOT": str(CORPUS_ROOT)},
    ).stdout
    paths = [Path(p) for p in out.splitlines() if p]
    if len(paths) < MIN_CORPUS_FILES:
        pytest.fail(
            f"corpus has {len(paths)} files (< {MIN_CORPUS_FILES}): "
            "scripts/setup.sh installs scripts/debian-crates.txt"
        )
    return paths


@pytest.fixture(scope="session")
def corpus(corpus_paths: list[Path]) -> SourceSet:
    return read_sources(corpus_paths)


@pytest.fixture(scope="session")
def corpus_tokens(corpus: SourceSet) -> TokenArrays:
    """The corpus lexed by the CPU backend (per-file algorithm)."""
    return lex_cpu(corpus.buffer, corpus.file_offsets)
