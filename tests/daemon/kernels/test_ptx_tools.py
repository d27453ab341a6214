"""ptxas / fatbinary / nvptx rustc: output parsing (recorded) and the real tools (when present)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from rustg.daemon.kernels.ptx import (
    KernelResources,
    PtxasFailed,
    assemble,
    pack_fatbin,
    parse_ptxas_messages,
    parse_ptxas_verbose,
)
from rustg.daemon.kernels.toolchain import find_cuda_tools, find_rustc

# Recorded from CUDA 13's ptxas -v on two kernels (one using shared memory).
VERBOSE = """\
ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function 'block_sum' for 'sm_90'
ptxas info    : Function properties for block_sum
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 10 registers, used 1 barriers, 1024 bytes smem, 368 bytes cmem[0]
ptxas info    : Compiling entry function 'saxpy' for 'sm_90'
ptxas info    : Function properties for saxpy
    8 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads
ptxas info    : Used 12 registers, used 0 barriers, 380 bytes cmem[0]
ptxas info    : Compile time = 26.153 ms
"""


def test_parse_verbose() -> None:
    assert parse_ptxas_verbose(VERBOSE) == [
        KernelResources(kernel="block_sum", arch="sm_90", registers=10, shared_bytes=1024,
                        constant_bytes=368, barriers=1),
        KernelResources(kernel="saxpy", arch="sm_90", registers=12, stack_frame_bytes=8,
                        spill_store_bytes=4, spill_load_bytes=4, constant_bytes=380),
    ]  # fmt: skip


def test_parse_messages() -> None:
    out = (
        "ptxas /tmp/k.ptx, line 12; error   : Unknown symbol 'oops'\n"
        "ptxas /tmp/k.ptx, line 3; warning : Unsupported .version 9.9\n"
        "ptxas fatal   : Ptx assembly aborted due to errors\n"
    )
    parsed = [(m.severity, m.line, m.message) for m in parse_ptxas_messages(out)]
    assert parsed == [
        ("error", 12, "Unknown symbol 'oops'"),
        ("warning", 3, "Unsupported .version 9.9"),
        ("error", None, "Ptx assembly aborted due to errors"),
    ]


KERNEL = """\
#![no_core]
#![feature(no_core, lang_items, abi_ptx, link_llvm_intrinsics)]
#![allow(internal_features)]
#[lang = "pointee_sized"] pub trait PointeeSized {}
#[lang = "meta_sized"] pub trait MetaSized: PointeeSized {}
#[lang = "sized"] pub trait Sized: MetaSized {}
#[lang = "copy"] pub trait Copy {}
impl Copy for u32 {}
impl<T: ?Sized> Copy for *mut T {}
unsafe extern "C" {
    #[link_name = "llvm.nvvm.read.ptx.sreg.tid.x"] fn tid_x() -> u32;
}
#[no_mangle]
pub unsafe extern "ptx-kernel" fn touch(_p: *mut u32) { let _t = tid_x(); }
"""


@pytest.mark.slow
def test_real_pipeline_rustc_ptxas_fatbinary(tmp_path: Path) -> None:
    tools = find_cuda_tools()
    if tools.ptxas is None or tools.fatbinary is None:
        pytest.skip("CUDA's ptxas/fatbinary are not installed")
    try:
        rustc = find_rustc()
    except Exception as exc:  # ToolError: no nvptx-capable rustc here
        pytest.skip(str(exc))
    source = tmp_path / "k.rs"
    source.write_text(KERNEL)
    images = []
    for arch in ("sm_80", "sm_90"):
        ptx = tmp_path / f"{arch}.ptx"
        subprocess.run(
            [*rustc.command, "--target", "nvptx64-nvidia-cuda", "--crate-type=lib",
             "--emit=asm", f"-Ctarget-cpu={arch}", "-O", str(source), "-o", str(ptx)],
            env=rustc.environ(), check=True, capture_output=True,
        )  # fmt: skip
        assert f".target {arch}" in ptx.read_text()
        cubin = tmp_path / f"{arch}.cubin"
        resources = assemble(tools.ptxas, ptx, arch, cubin)
        assert [(r.kernel, r.arch) for r in resources] == [("touch", arch)]
        assert resources[0].registers > 0 and cubin.stat().st_size > 0
        images.append((arch, cubin, ptx))
    fatbin = tmp_path / "k.fatbin"
    pack_fatbin(tools.fatbinary, images, fatbin)
    assert fatbin.stat().st_size > sum(c.stat().st_size for _, c, _ in images)


@pytest.mark.skipif(shutil.which("ptxas") is None, reason="CUDA's ptxas is not installed")
def test_invalid_ptx_is_a_build_error(tmp_path: Path) -> None:
    ptx = tmp_path / "bad.ptx"
    ptx.write_text(".version 7.8\n.target sm_90\n.address_size 64\n.visible .entry f() { oops; }\n")
    ptxas = find_cuda_tools().ptxas
    assert ptxas is not None
    with pytest.raises(PtxasFailed) as info:
        assemble(ptxas, ptx, "sm_90", tmp_path / "bad.cubin")
    assert info.value.messages and info.value.messages[0].line == 4
