"""The kernel pipeline on the real example: extraction, nvptx builds, cache, error mapping."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from rustg.daemon.cache import Cache, CacheConfig
from rustg.daemon.errors import ToolError
from rustg.daemon.kernels.build import build_package
from rustg.daemon.kernels.config import load_kernel_config
from rustg.daemon.kernels.extract import extract
from rustg.daemon.kernels.ptx import assemble, cubin_entry_points
from rustg.daemon.kernels.toolchain import find_cuda_tools, find_rustc
from tests.support.rust_workspaces import copy_example

KERNELS = "crates/kernels/src/kernels.rs"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return copy_example(tmp_path, "gpu-kernels")


def test_extraction_takes_kernels_and_what_they_name_only(workspace: Path) -> None:
    e = extract(workspace, workspace / "crates" / "kernels", "gpu_kernels")
    assert [k.name for k in e.kernels] == ["saxpy", "block_sum", "histogram", "transpose"]
    assert e.device_functions == ["kernels::bin_of"]
    saxpy = e.kernels[0]
    assert (saxpy.module_path, saxpy.file) == ("kernels::saxpy", KERNELS)
    assert [(p.name, p.type) for p in saxpy.params] == [
        ("a", "f32"), ("x", "Slice<f32>"), ("y", "SliceMut<f32>"),
    ]  # fmt: skip
    assert 'pub extern "ptx-kernel" fn saxpy(' in e.source
    assert "#[rustg::kernel]" not in e.source and "#[rustg::device]" not in e.source
    assert "pub const REDUCE_BLOCK" in e.source  # named by block_sum: carried along
    assert "Device" not in e.source  # host code (lib.rs) never enters the kernel crate
    # One unit per kernel, holding what it reaches and no other kernel.
    units = {u.kernels[0].name: u for u in e.units}
    assert list(units) == ["saxpy", "block_sum", "histogram", "transpose"]
    assert units["histogram"].device_functions == ["kernels::bin_of"]
    assert "pub const MAX_BINS" in units["histogram"].source
    assert "REDUCE_BLOCK" not in units["histogram"].source
    assert "fn bin_of" not in units["saxpy"].source and "TILE" not in units["saxpy"].source
    assert all(len(u.kernels) == 1 for u in e.units)
    # Every copied line maps back to the user's line; the rewritten fn line shifts columns.
    source_lines = (workspace / KERNELS).read_text().splitlines()
    generated = e.source.splitlines()
    for n, origin in enumerate(e.lines[: len(generated)], start=1):
        original = source_lines[origin.line - 1] if origin is not None else ""
        if origin is not None and origin.column_shift == 0 and "#[rustg::" not in original:
            assert generated[n - 1] == original
    fn_line = next(n for n, t in enumerate(generated, 1) if 'extern "ptx-kernel" fn saxpy' in t)
    col = generated[fn_line - 1].index("saxpy") + 1
    assert e.origin(fn_line, col) == (
        KERNELS,
        saxpy.line,
        source_lines[saxpy.line - 1].index("saxpy") + 1,
    )


def _tools() -> tuple[object, object]:
    cuda = find_cuda_tools()
    try:
        rustc = find_rustc()
    except ToolError as exc:
        pytest.skip(str(exc))
    return rustc, cuda


@pytest.mark.slow
def test_build_cache_and_incrementality(workspace: Path, tmp_path: Path) -> None:
    rustc, cuda = _tools()
    config = load_kernel_config(workspace, workspace / "crates/kernels/Cargo.toml")
    assert config.archs == ("sm_80", "sm_90")
    out = workspace / "target" / "rustg"

    def build(cache: Cache) -> object:
        return build_package(
            workspace, workspace / "crates" / "kernels", "gpu_kernels", config,
            rustc=rustc, cuda=cuda, cache=cache, out_dir=out,  # type: ignore[arg-type]
        )  # fmt: skip

    with Cache.open_dir(tmp_path / "cache", CacheConfig()) as cache:
        cold = build(cache)
        assert cold.ok, cold.diagnostics  # type: ignore[attr-defined]
        assert [a.cached for a in cold.archs] == [False, False]  # type: ignore[attr-defined]
        for arch in ("sm_80", "sm_90"):
            ptx = (out / arch / "gpu_kernels.ptx").read_text()
            assert f".target {arch}" in ptx and ".visible .entry saxpy(" in ptx
            assert ".loc" in ptx  # debug line info maps PTX back to the source
        manifest = json.loads((out / "gpu_kernels.manifest.json").read_text())
        assert [k["name"] for k in manifest["kernels"]] == [
            "saxpy", "block_sum", "histogram", "transpose",
        ]  # fmt: skip
        if cuda.ptxas is not None:  # type: ignore[attr-defined]
            block_sum = manifest["kernels"][1]["resources"]["sm_90"]
            assert block_sum["shared_bytes"] == 1024 and block_sum["registers"] > 0
            assert (out / "sm_90" / "gpu_kernels.fatbin").is_file()

        warm = build(cache)
        assert [a.cached for a in warm.archs] == [True, True]  # type: ignore[attr-defined]
        # A host-only edit does not touch the kernel crate: still a hit.
        lib = workspace / "crates/kernels/src/lib.rs"
        lib.write_text(lib.read_text() + "\npub fn host_only() -> usize { 1 }\n")
        assert [a.cached for a in build(cache).archs] == [True, True]  # type: ignore[attr-defined]
        # Editing a kernel rebuilds that kernel only (per arch); the module is relinked.
        k = workspace / KERNELS
        k.write_text(k.read_text().replace("acc += input[i];", "acc += 2.0 * input[i];"))
        edited = build(cache)
        assert edited.ok, edited.diagnostics  # type: ignore[attr-defined]
        assert missed(edited) == {("sm_80", "block_sum"), ("sm_90", "block_sum")}
        assert [a.link_cached for a in edited.archs] == [False, False]  # type: ignore[attr-defined]
        # A device fn: the kernels that call it (histogram), not the others.
        k.write_text(k.read_text().replace("Some(b.min(bins - 1))", "Some(b.min(bins - 1) + 0)"))
        assert missed(build(cache)) == {("sm_80", "histogram"), ("sm_90", "histogram")}
        # The linked module still has every kernel, and its merged PTX assembles.
        for arch in ("sm_80", "sm_90"):
            assert sorted(cubin_entry_points((out / arch / "gpu_kernels.cubin").read_bytes())) == [
                "block_sum", "histogram", "saxpy", "transpose",
            ]  # fmt: skip
            if cuda.ptxas is not None:  # type: ignore[attr-defined]
                assemble(cuda.ptxas, out / arch / "gpu_kernels.ptx", arch, tmp_path / "m.cubin")  # type: ignore[attr-defined]


def missed(build: object) -> set[tuple[str, str]]:
    return {(a.arch, u.kernel) for a in build.archs for u in a.units if not u.cached}  # type: ignore[attr-defined]


@pytest.mark.slow
def test_merged_ptx_lines_point_at_the_users_file(workspace: Path, tmp_path: Path) -> None:
    rustc, cuda = _tools()
    config = load_kernel_config(workspace, gpu_arch="sm_90")
    out = tmp_path / "out"
    result = build_package(
        workspace, workspace / "crates" / "kernels", "gpu_kernels", config,
        rustc=rustc, cuda=cuda, cache=None, out_dir=out,  # type: ignore[arg-type]
    )  # fmt: skip
    assert result.ok, result.diagnostics
    ptx = (out / "sm_90" / "gpu_kernels.ptx").read_text()
    files = dict(re.findall(r'\.file\s+(\d+) "([^"]*)"', ptx))
    assert KERNELS in files.values()
    assert not any(f.startswith("/") for f in files.values()), files  # nothing machine-specific
    kernel_file = next(n for n, f in files.items() if f == KERNELS)
    saxpy = ptx[ptx.index(".entry saxpy(") :]
    first_loc = re.search(r"\.loc\s+(\d+)\s+(\d+)", saxpy)
    assert first_loc is not None
    source = (workspace / KERNELS).read_text().splitlines()
    assert first_loc.group(1) == kernel_file
    assert source[int(first_loc.group(2)) - 1].startswith("pub fn saxpy(")


@pytest.mark.slow
def test_kernel_errors_point_at_the_users_line(workspace: Path, tmp_path: Path) -> None:
    rustc, cuda = _tools()
    k = workspace / KERNELS
    text = k.read_text()
    k.write_text(
        text.replace("let n = x.len().min(y.len());", "let n: u64 = x.len().min(y.len());")
    )
    line = text.splitlines().index("    let n = x.len().min(y.len());") + 1
    config = load_kernel_config(workspace, gpu_arch="sm_90")
    result = build_package(
        workspace, workspace / "crates" / "kernels", "gpu_kernels", config,
        rustc=rustc, cuda=cuda, cache=None, out_dir=tmp_path / "out",  # type: ignore[arg-type]
    )  # fmt: skip
    assert not result.ok
    first = result.diagnostics[0]
    assert (first.source, first.file, first.line, first.code) == (
        "rustg-kernel", KERNELS, line, "E0308",
    )  # fmt: skip
    assert first.column == 18  # the initializer, in the user's columns
    assert not (tmp_path / "out" / "gpu_kernels.manifest.json").exists()
    shutil.rmtree(tmp_path / "out", ignore_errors=True)


@pytest.mark.slow
def test_a_cache_hit_reports_warnings_at_todays_lines(workspace: Path, tmp_path: Path) -> None:
    rustc, cuda = _tools()
    k = workspace / KERNELS
    text = k.read_text().replace(
        "    let n = x.len().min(y.len());",
        "    let unused = 1u32;\n    let n = x.len().min(y.len());",
    )
    k.write_text(text)
    config = load_kernel_config(workspace, gpu_arch="sm_90")

    def warnings() -> tuple[list[int], bool]:
        result = build_package(
            workspace, workspace / "crates" / "kernels", "gpu_kernels", config,
            rustc=rustc, cuda=cuda, cache=cache, out_dir=tmp_path / "out",  # type: ignore[arg-type]
        )  # fmt: skip
        lines = [d.line for d in result.diagnostics if d.message.startswith("unused variable")]
        return lines, result.archs[0].cached

    with Cache.open_dir(tmp_path / "cache", CacheConfig()) as cache:
        line = text.splitlines().index("    let unused = 1u32;") + 1
        assert warnings() == ([line], False)
        # Lines that never enter the kernel crate, above the kernel: same crate, a cache hit,
        # and the warning moves with the user's code.
        k.write_text("// a comment\n// and another\n" + text)
        assert warnings() == ([line + 2], True)


@pytest.mark.slow
def test_a_device_fn_no_kernel_calls_is_still_compiled(workspace: Path, tmp_path: Path) -> None:
    rustc, cuda = _tools()
    k = workspace / KERNELS
    helper = (
        "#[rustg::device]\npub fn unused_helper(v: f32) -> u32 {\n    let w: u64 = v;\n    0\n}\n"
    )
    k.write_text(k.read_text() + "\n" + helper)
    line = k.read_text().splitlines().index("    let w: u64 = v;") + 1
    e = extract(workspace, workspace / "crates" / "kernels", "gpu_kernels")
    assert [u.unit_name for u in e.units][-1] == "#device"
    assert "fn unused_helper" in e.units[-1].source and "fn saxpy" not in e.units[-1].source
    config = load_kernel_config(workspace, gpu_arch="sm_90")
    result = build_package(
        workspace, workspace / "crates" / "kernels", "gpu_kernels", config,
        rustc=rustc, cuda=cuda, cache=None, out_dir=tmp_path / "out",  # type: ignore[arg-type]
    )  # fmt: skip
    assert not result.ok
    assert [(d.file, d.line, d.code) for d in result.diagnostics if d.code == "E0308"] == [
        (KERNELS, line, "E0308")
    ]
