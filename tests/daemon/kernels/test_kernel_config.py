"""[workspace.metadata.rustg] / [package.metadata.rustg]: defaults, overrides, loud errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from rustg.daemon.errors import ConfigError
from rustg.daemon.kernels.config import DEFAULT_ARCH, KernelLimits, load_kernel_config


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_without_gpu(tmp_path: Path) -> None:
    write(tmp_path / "Cargo.toml", "[workspace]\n")
    config = load_kernel_config(tmp_path, gpu_arch=None)
    # No nvidia-smi here (or whatever GPU is present): the arch is the GPU's or the default.
    assert len(config.archs) == 1 and config.archs[0].startswith("sm_")
    assert load_kernel_config(tmp_path, gpu_arch="sm_90").archs == ("sm_90",)
    assert config.opt_level == 3 and config.debug_line_info
    assert config.limits("anything") == KernelLimits()
    assert DEFAULT_ARCH == "sm_80"


def test_package_overrides_workspace(tmp_path: Path) -> None:
    write(tmp_path / "Cargo.toml", """\
[workspace]
[workspace.metadata.rustg]
archs = ["sm_80", "sm_90"]
opt_level = 2
[workspace.metadata.rustg.kernels.block_sum]
block = [256]
max_threads_per_block = 256
""")  # fmt: skip
    package = write(tmp_path / "k" / "Cargo.toml", """\
[package]
name = "k"
[package.metadata.rustg]
debug_line_info = false
[package.metadata.rustg.kernels.saxpy]
shared_memory_bytes = 1024
""")  # fmt: skip
    config = load_kernel_config(tmp_path, package)
    assert config.archs == ("sm_80", "sm_90") and config.opt_level == 2
    assert config.debug_line_info is False
    assert config.limits("block_sum") == KernelLimits(block=(256, 1, 1), max_threads_per_block=256)
    assert config.limits("saxpy").shared_memory_bytes == 1024
    assert config.sources == (str(tmp_path / "Cargo.toml"), str(package))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('archs = ["gfx90a"]', "'gfx90a' is not a GPU arch"),
        ("archs = []", "key 'archs' must be a non-empty list"),
        ("opt_level = 5", "key 'opt_level' must be 0, 1, 2 or 3"),
        ('debug_line_info = "yes"', "key 'debug_line_info' must be true or false"),
        ("arch = ['sm_90']", "key 'arch' is unknown"),
        ("kernels.k.block = [0, 1]", "key 'kernels.k.block': must be 1 to 3 positive integers"),
        ("kernels.k.threads = 3", "key 'kernels.k.threads' is unknown"),
        ("kernels.k.block = [64, 64]", "key 'kernels.k.block' exceeds max_threads_per_block"),
    ],
)
def test_errors_name_key_and_file(tmp_path: Path, table: str, message: str) -> None:
    manifest = write(tmp_path / "Cargo.toml", f"[workspace]\n[workspace.metadata.rustg]\n{table}\n")
    with pytest.raises(ConfigError) as info:
        load_kernel_config(tmp_path)
    assert message in str(info.value) and str(manifest) in str(info.value)
