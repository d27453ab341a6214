"""Building every kernel crate of a workspace (used by `cargo g build/check` and the daemon)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..cache import Cache
from ..errors import ToolError
from .build import PackageBuild, build_package
from .config import load_kernel_config
from .procs import Cancellation
from .toolchain import find_cuda_tools, find_rustc


@dataclass(frozen=True, slots=True)
class Package:
    name: str
    crate: str  # the lib (or bin) target's crate name: what the PTX module is named after
    directory: Path
    manifest: Path


#: root -> (manifests' stat signature, packages): `cargo metadata` costs ~45 ms a call, and the
#: daemon asks after every kernel-relevant save.
_MEMO: dict[Path, tuple[tuple[tuple[str, int, int], ...], list[Package]]] = {}


def _signature(manifests: list[Path]) -> tuple[tuple[str, int, int], ...]:
    out = []
    for manifest in manifests:
        try:
            st = manifest.stat()
        except OSError:
            out.append((str(manifest), -1, -1))
            continue
        out.append((str(manifest), st.st_mtime_ns, st.st_size))
    return tuple(out)


def workspace_packages(root: Path) -> list[Package]:
    """Workspace members, from ``cargo metadata`` (offline, no dependency resolution);
    remembered until a manifest changes."""
    if (memo := _MEMO.get(root)) is not None:
        signature, packages = memo
        if _signature([root / "Cargo.toml", *(p.manifest for p in packages)]) == signature:
            return packages
    packages = _cargo_metadata(root)
    _MEMO[root] = (_signature([root / "Cargo.toml", *(p.manifest for p in packages)]), packages)
    return packages


def _cargo_metadata(root: Path) -> list[Package]:
    try:
        out = subprocess.run(
            ["cargo", "metadata", "--no-deps", "--format-version", "1", "--offline"],
            cwd=root, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolError(f"cannot run cargo metadata: {exc}") from exc
    if out.returncode != 0:
        raise ToolError(f"cargo metadata failed: {out.stderr.strip()}")
    packages = []
    for package in json.loads(out.stdout)["packages"]:
        targets = package["targets"]
        lib = next((t for t in targets if "lib" in t["kind"] or "rlib" in t["kind"]), None)
        target = lib or (targets[0] if targets else None)
        crate = (target["name"] if target else package["name"]).replace("-", "_")
        manifest = Path(package["manifest_path"])
        packages.append(Package(package["name"], crate, manifest.parent, manifest))
    return sorted(packages, key=lambda p: p.name)


def build_workspace_kernels(
    root: Path, *, cache: Cache | None, out_dir: Path | None = None,
    cancel: Cancellation | None = None,
) -> list[PackageBuild]:  # fmt: skip
    """Every package with kernels, built for its configured archs into ``target/rustg``."""
    rustc = find_rustc()
    cuda = find_cuda_tools()
    out = out_dir or root / "target" / "rustg"
    builds = []
    for package in workspace_packages(root):
        config = load_kernel_config(root, package.manifest)
        build = build_package(
            root, package.directory, package.crate, config,
            rustc=rustc, cuda=cuda, cache=cache, out_dir=out, cancel=cancel,
        )  # fmt: skip
        if build.extraction.kernels:
            builds.append(build)
    return builds
