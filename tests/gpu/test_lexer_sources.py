"""Reading sources into one buffer: the native (libc via numba) and Python readers agree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rustg.gpu.sources import read_sources


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    contents = [b"fn a() {}\n", b"", b"\xff\x00 binary", b"x" * 5000, "é // ü\n".encode()]
    paths = []
    for i, c in enumerate(contents):
        p = tmp_path / f"f{i}.rs"
        p.write_bytes(c)
        paths.append(p)
    return paths


@pytest.mark.parametrize("native", [True, False])
def test_reads_every_file_into_its_slot(files: list[Path], native: bool) -> None:
    s = read_sources(files, native=native, threads=2)
    assert s.paths == tuple(files)
    for i, p in enumerate(files):
        assert s.buffer[s.file_offsets[i] : s.file_offsets[i + 1]].tobytes() == p.read_bytes()
    assert s.n_bytes == sum(p.stat().st_size for p in files)


@pytest.mark.parametrize("native", [True, False])
def test_big_files_are_sized_not_read(files: list[Path], native: bool) -> None:
    s = read_sources(files, native=native, max_file_bytes=100)
    assert s.file_offsets[4] - s.file_offsets[3] == 5000
    assert not np.any(s.buffer[s.file_offsets[3] : s.file_offsets[4]])


@pytest.mark.parametrize("native", [True, False])
def test_missing_file_raises_oserror(files: list[Path], native: bool) -> None:
    with pytest.raises(FileNotFoundError):
        read_sources([*files, files[0].parent / "gone.rs"], native=native)


def test_custom_allocator(files: list[Path]) -> None:
    got: list[int] = []

    def allocate(n: int) -> np.ndarray:
        got.append(n)
        return np.full(n, 7, dtype=np.uint8)

    s = read_sources(files, allocate=allocate)
    assert got == [s.n_bytes]
    assert s.buffer.tobytes() == b"".join(p.read_bytes() for p in files)
