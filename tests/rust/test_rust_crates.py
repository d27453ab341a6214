"""The Rust side of cargo-g, built and run for real: the support crates under rust/, the
gpu-kernels example workspace, the kernel dialect on the host emulator, and the kernels compiled
to PTX with rustc's nvptx64 backend and assembled by ptxas (the manual pipeline in
scripts/build-ptx-by-hand.sh, which cargo-g mirrors).

Every test runs cargo or rustc, so the module is marked slow; the nvptx ones skip cleanly where
the toolchain (a nightly or bootstrapped rustc with the nvptx64 target, CUDA's ptxas and
fatbinary) is missing. One cargo target directory serves the module so rustg is compiled once.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.support.rust_workspaces import REPO_ROOT, cargo_env

pytestmark = pytest.mark.slow

RUST_DIR = REPO_ROOT / "rust"
RUSTG_CRATE = RUST_DIR / "rustg"
EXAMPLE = REPO_ROOT / "examples" / "gpu-kernels"
EXAMPLE_KERNELS = EXAMPLE / "crates" / "kernels" / "src" / "kernels.rs"
FIXTURES = Path(__file__).with_name("fixtures")
BY_HAND = REPO_ROOT / "scripts" / "build-ptx-by-hand.sh"

EXAMPLE_KERNEL_NAMES = {"saxpy", "block_sum", "histogram", "transpose"}


@pytest.fixture(scope="module")
def target_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    target = tmp_path_factory.mktemp("cargo-target")
    yield target
    shutil.rmtree(target, ignore_errors=True)


def run(
    args: list[str],
    cwd: Path,
    target: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    full_env = cargo_env(target)
    full_env.update(env or {})
    return subprocess.run(
        args, cwd=cwd, env=full_env, capture_output=True, text=True, check=False, timeout=600
    )


def passed(output: str) -> int:
    return sum(int(n) for n in re.findall(r"test result: ok\. (\d+) passed", output))


def scratch_crate(root: Path, name: str, lib_rs: str) -> Path:
    """A standalone crate depending on rust/rustg by absolute path."""
    crate = root / name
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text(
        f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n\n'
        f"[dependencies]\nrustg = {{ path = {json.dumps(str(RUSTG_CRATE))} }}\n\n"
        # A workspace of its own: never a member of whatever encloses the temp dir.
        "[workspace]\n"
    )
    (crate / "src" / "lib.rs").write_text(lib_rs)
    return crate


# -- the support crates and the example on the host ----------------------------------------------


def test_rust_workspace_tests_pass(target_dir: Path) -> None:
    """rustg (emulator, macros through real kernels, doc examples) and the fake-driver tests of
    the CUDA driver-API path."""
    result = run(["cargo", "test", "--workspace"], RUST_DIR, target_dir)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "FAILED" not in output
    for suite in ("tests/emulator.rs", "tests/driver.rs", "Doc-tests rustg"):
        assert suite in output, output
    assert passed(output) >= 30, output


def test_rust_workspace_is_clippy_and_rustfmt_clean(target_dir: Path) -> None:
    clippy = run(
        ["cargo", "clippy", "--workspace", "--all-targets", "--", "-D", "warnings"],
        RUST_DIR,
        target_dir,
    )
    assert clippy.returncode == 0, clippy.stderr
    for crate in (RUST_DIR, RUST_DIR / "rustg-core"):
        fmt = run(["cargo", "fmt", "--check"], crate)
        assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_gpu_kernels_example_tests_pass(target_dir: Path) -> None:
    """The example in place (its path dependency is ../../rust/rustg): kernels against the CPU
    on the emulator, and the app binary's output."""
    result = run(["cargo", "test", "--workspace"], EXAMPLE, target_dir)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "FAILED" not in output
    assert passed(output) >= 10, output
    clippy = run(
        ["cargo", "clippy", "--workspace", "--all-targets", "--", "-D", "warnings"],
        EXAMPLE,
        target_dir,
    )
    assert clippy.returncode == 0, clippy.stderr


def test_kernel_misuse_is_reported_at_the_users_tokens(tmp_path: Path, target_dir: Path) -> None:
    """Each misuse is one error, at the line and column of the offending tokens in the user's
    file (not in generated code), with a message that says what to do instead."""
    source = """\
use rustg::{Slice, SliceMut};

pub struct NotAParam(pub u32);

#[rustg::kernel]
pub fn generic<T: Copy>(_x: Slice<T>) {}

#[rustg::kernel]
pub fn returns(x: Slice<f32>) -> f32 {
    x[0]
}

#[rustg::kernel]
pub fn takes_reference(_x: &mut [f32], _n: u32) {}

#[rustg::kernel]
pub fn takes_struct(_p: NotAParam, _y: SliceMut<f32>) {}

#[rustg::kernel]
pub async fn asynchronous() {}

#[rustg::kernel]
pub struct NotAFunction;

#[rustg::gpu_test(block = 32, warps = 2)]
fn unknown_key() {}

#[rustg::device]
pub fn allocates(n: usize) -> usize {
    let v: Vec<u32> = Vec::with_capacity(n);
    println!("{}", v.len());
    v.capacity()
}

#[rustg::kernel]
pub fn fine(x: Slice<f32>, mut y: SliceMut<f32>) {
    y[0] = x[0];
}

#[rustg::gpu_test(block = 2)]
fn gpu_tests_are_host_code() {
    println!("{:?}", vec![rustg::thread_idx_x()]);
}
"""
    crate = scratch_crate(tmp_path, "misuse", source)
    result = run(["cargo", "check", "--message-format=json"], crate, target_dir)
    assert result.returncode != 0
    errors = []
    for line in result.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") != "compiler-message":
            continue
        diagnostic = message["message"]
        if diagnostic["level"] != "error" or not diagnostic["spans"]:
            continue
        span = next(s for s in diagnostic["spans"] if s["is_primary"])
        assert span["file_name"] == "src/lib.rs", diagnostic
        errors.append((span["line_start"], span["column_start"], diagnostic["message"]))
    expected = [
        (6, 15, "a kernel cannot be generic"),
        (9, 34, "a kernel returns nothing"),
        (14, 28, "a kernel parameter cannot be a reference"),
        (17, 25, "`NotAParam` cannot be a kernel parameter"),
        (20, 5, "a kernel cannot be async"),
        (23, 5, "#[rustg::kernel] applies to functions"),
        (25, 31, "unknown gpu_test key `warps`"),
        (30, 12, "`Vec` is not available in GPU code"),
        (30, 23, "`Vec` is not available in GPU code"),
        (31, 5, "`println!` is not available in GPU code"),
    ]
    assert len(errors) == len(expected), errors
    for (line, column, message), (want_line, want_column, want) in zip(
        sorted(errors), expected, strict=True
    ):
        assert (line, column) == (want_line, want_column), (line, column, message)
        assert message.startswith(want), message


def test_lint_level_attribute_builds_on_stable_and_rejects_misuse(
    tmp_path: Path, target_dir: Path
) -> None:
    """`#[rustg::lint(allow(..))]` (the spelling stable rustc accepts, unlike
    `#[allow(rustg::x)]`, E0710) leaves the item as it is; malformed levels are errors at the
    user's tokens."""
    good = """\
#[rustg::lint(allow(gpu_panic, f64_in_kernel), deny(dbg_macro))]
pub fn checked(n: u32) -> u32 {
    assert!(n > 0);
    n
}
"""
    ok = run(["cargo", "check"], scratch_crate(tmp_path, "levels", good), target_dir)
    assert ok.returncode == 0, ok.stderr
    bad = """\
#[rustg::lint(silence(gpu_panic))]
pub fn a() {}

#[rustg::lint(allow(rustg::gpu_panic))]
pub fn b() {}

#[rustg::lint]
pub fn c() {}
"""
    result = run(
        ["cargo", "check", "--message-format=json"], scratch_crate(tmp_path, "bad_levels", bad),
        target_dir,
    )  # fmt: skip
    assert result.returncode != 0
    errors = sorted(
        (span["line_start"], span["column_start"], m["message"]["message"])
        for m in map(json.loads, result.stdout.splitlines())
        if m.get("reason") == "compiler-message" and m["message"]["level"] == "error"
        for span in m["message"]["spans"]
        if span["is_primary"]
    )
    assert [(line, column) for line, column, _ in errors] == [(1, 15), (4, 26), (7, 1)], errors
    assert errors[0][2].startswith("`silence` is not a lint level")
    assert all("expected lint levels" in message for _, _, message in errors[1:]), errors


def test_dialect_tour_runs_on_the_emulator(tmp_path: Path, target_dir: Path) -> None:
    """tests/rust/fixtures/dialect_kernels.rs, the file the nvptx tests compile, run on the host
    through rustg and checked by dialect_host.rs."""
    crate = scratch_crate(tmp_path, "dialect", "pub mod dialect_kernels;\n")
    shutil.copy(FIXTURES / "dialect_kernels.rs", crate / "src" / "dialect_kernels.rs")
    (crate / "tests").mkdir()
    shutil.copy(FIXTURES / "dialect_host.rs", crate / "tests" / "host.rs")
    result = run(["cargo", "test"], crate, target_dir)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert passed(output) == 6, output
    assert "warning" not in result.stderr, result.stderr


# -- the kernels on nvptx64 ----------------------------------------------------------------------


def nvptx_toolchains() -> list[str]:
    """The rustup toolchains whose rustc can build rustg-core for nvptx64 (nightly, or stable
    through RUSTC_BOOTSTRAP=1), in preference order."""
    found = []
    for toolchain in ("nightly", "stable"):
        try:
            targets = subprocess.run(
                ["rustc", f"+{toolchain}", "--print", "target-list"],
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            ).stdout.split()
        except (OSError, subprocess.CalledProcessError):
            continue
        if "nvptx64-nvidia-cuda" in targets:
            found.append(toolchain)
    return found


@pytest.fixture(scope="module")
def nvptx() -> str:
    """The preferred toolchain for nvptx builds; skips without one, or without CUDA's tools."""
    missing = [tool for tool in ("bash", "ptxas", "fatbinary") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"CUDA tools not installed: {', '.join(missing)}")
    toolchains = nvptx_toolchains()
    if not toolchains:
        pytest.skip("no rustup toolchain with the nvptx64-nvidia-cuda target")
    return toolchains[0]


def build_by_hand(
    kernels: Path, crate: str, out: Path, archs: list[str], **env: str
) -> subprocess.CompletedProcess[str]:
    result = run(["bash", str(BY_HAND), str(kernels), crate, str(out), *archs], REPO_ROOT, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def ptxas_figures(log: str) -> dict[str, dict[str, int]]:
    """Per kernel: registers, shared-memory bytes and spill bytes from `ptxas -v` output."""
    figures: dict[str, dict[str, int]] = {}
    kernel = ""
    for line in log.splitlines():
        if m := re.search(r"Compiling entry function '(\w+)'", line):
            kernel = m[1]
            figures[kernel] = {"registers": -1, "smem": 0, "spill": 0}
        elif m := re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads", line):
            figures[kernel]["spill"] = int(m[1]) + int(m[2])
        elif m := re.search(r"Used (\d+) registers", line):
            figures[kernel]["registers"] = int(m[1])
            if s := re.search(r"(\d+) bytes smem", line):
                figures[kernel]["smem"] = int(s[1])
    return figures


def test_example_kernels_compile_to_ptx_for_sm80_and_sm90(tmp_path: Path, nvptx: str) -> None:
    """The example's kernels.rs through the manual pipeline: PTX per arch that ptxas assembles,
    with the kernels' shared memory where the source puts it and no spills."""
    out = tmp_path / "rustg"
    build_by_hand(EXAMPLE_KERNELS, "gpu_kernels", out, ["sm_80", "sm_90"], RUSTG_TOOLCHAIN=nvptx)
    for arch in ("sm_80", "sm_90"):
        ptx = (out / arch / "gpu_kernels.ptx").read_text()
        assert f".target {arch}" in ptx
        entries = set(re.findall(r"^\.visible \.entry (\w+)\(", ptx, re.MULTILINE))
        assert entries == EXAMPLE_KERNEL_NAMES
        # Slices travel as one 16-byte {ptr, len} struct; scalars as themselves.
        assert ".param .f32 saxpy_param_0" in ptx
        assert ".param .align 8 .b8 saxpy_param_1[16]" in ptx
        # shared_array! is module-scope .shared memory: 256 f32s and 256 u32s, 32x33 f32s.
        assert len(re.findall(r"^\.shared \.align 16 \.b8 __rustg_smem_\d+_\d+\[", ptx, re.M)) == 3
        assert (out / arch / "gpu_kernels.cubin").stat().st_size > 0
        assert (out / arch / "gpu_kernels.fatbin").stat().st_size > 0
        figures = ptxas_figures((out / arch / "gpu_kernels.ptxas.txt").read_text())
        assert set(figures) == EXAMPLE_KERNEL_NAMES
        assert {k: f["smem"] for k, f in figures.items()} == {
            "saxpy": 0,
            "block_sum": 1024,
            "histogram": 1024,
            "transpose": 32 * 33 * 4,
        }
        for kernel, f in figures.items():
            assert f["spill"] == 0, (arch, kernel, f)
            assert 0 < f["registers"] <= 64, (arch, kernel, f)


@pytest.mark.parametrize("toolchain", ["nightly", "stable"])
def test_dialect_tour_compiles_to_ptx(tmp_path: Path, nvptx: str, toolchain: str) -> None:
    """Every construct of the dialect tour compiles for nvptx64 against rustg-core, with the
    nightly and with stable through RUSTC_BOOTSTRAP (rustg-core covers both toolchains' lang
    items), and carries `.loc` line directives when asked."""
    if toolchain not in nvptx_toolchains():
        pytest.skip(f"rustc +{toolchain} has no nvptx64-nvidia-cuda target")
    out = tmp_path / "rustg"
    result = build_by_hand(
        FIXTURES / "dialect_kernels.rs",
        "dialect",
        out,
        ["sm_80"],
        RUSTG_TOOLCHAIN=toolchain,
        RUSTG_DEBUG_LINES="1",
    )
    assert "warning" not in result.stderr, result.stderr
    ptx = (out / "sm_80" / "dialect.ptx").read_text()
    entries = set(re.findall(r"^\.visible \.entry (\w+)\(", ptx, re.MULTILINE))
    assert entries == {"integers", "exact_floats", "approx_floats", "reductions", "grid_2d", "find"}
    # Everything a kernel calls is in the module: rustg-core contributes only inlined code.
    assert ".extern .func" not in ptx
    assert re.search(r"^\s*\.loc\s+\d+ \d+ \d+", ptx, re.MULTILINE)
    # Dynamic shared memory is one extern array however many times the kernel asks for it.
    assert ".extern .shared .align 16 .b8 __rustg_dynamic_smem[];" in ptx
    figures = ptxas_figures((out / "sm_80" / "dialect.ptxas.txt").read_text())
    assert set(figures) == entries
    assert all(f["spill"] == 0 for f in figures.values()), figures


def test_rustg_core_alone_builds_with_cargo_for_nvptx(tmp_path: Path, nvptx: str) -> None:
    """rust/rustg-core is also an ordinary cargo package for the nvptx64 target."""
    result = run(
        ["cargo", f"+{nvptx}", "build", "--release", "--target", "nvptx64-nvidia-cuda"],
        RUST_DIR / "rustg-core",
        tmp_path / "target",
        env={"RUSTC_BOOTSTRAP": "1"} if nvptx == "stable" else {},
    )
    assert result.returncode == 0, result.stderr
    rlib = tmp_path / "target" / "nvptx64-nvidia-cuda" / "release" / "librustg_core.rlib"
    assert rlib.stat().st_size > 0
    assert os.access(rlib, os.R_OK)
