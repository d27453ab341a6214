"""Building one package's kernels: extract → rustc (nvptx64, per arch) → ptxas → fatbin, with
the content-addressed cache in front of every expensive step and a manifest at the end.

Outputs (under the workspace's ``target/rustg``):

    <arch>/<crate>.ptx      PTX per arch (kept in the fatbin too: newer GPUs JIT it)
    <arch>/<crate>.cubin    SASS per arch, when ptxas is installed
    <arch>/<crate>.fatbin   every arch's cubin + PTX, when fatbinary is installed
    <crate>.manifest.json   kernels, parameters, source spans, per-arch resources, digests

Compile errors come back as protocol ``Diagnostic``s (``source="rustg-kernel"``) at the user's
file/line/column, mapped through the extraction's line map — never at generated code.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import blake3
import msgspec

from rustg.protocol import Diagnostic, DiagnosticChild, Severity, Span

from ..cache import ActionKeyBuilder, Cache
from ..errors import ToolError
from ..rustc_diagnostics import dedupe
from .config import KernelConfig
from .extract import Extraction, extract
from .ptx import KernelResources, PtxasFailed, assemble, pack_fatbin
from .toolchain import NVPTX_TARGET, CudaTools, RustcForNvptx

SOURCE = "rustg-kernel"
_SUMMARY = re.compile(r"^\d+ (warning|error)s? emitted$")
MANIFEST_VERSION = 1
_RESOURCES = msgspec.json.Decoder(list[KernelResources])


@dataclass(slots=True)
class ArchResult:
    arch: str
    ptx: Path | None = None
    cubin: Path | None = None
    fatbin: Path | None = None
    resources: list[KernelResources] = field(default_factory=list)
    cached: bool = False


@dataclass(slots=True)
class PackageBuild:
    crate: str
    extraction: Extraction
    archs: list[ArchResult] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    manifest: Path | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)


def rustg_core_dir() -> Path:
    """rust/rustg-core of this installation (the crate kernels compile against)."""
    override = os.environ.get("RUSTG_CORE_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "rust" / "rustg-core"


def tree_digest(directory: Path) -> str:
    hasher = blake3.blake3()
    for path in sorted(directory.rglob("*.rs")) + sorted(directory.glob("Cargo.toml")):
        hasher.update(path.relative_to(directory).as_posix().encode() + b"\0")
        hasher.update(path.read_bytes())
    return hasher.hexdigest()


def _flags(config: KernelConfig, arch: str) -> list[str]:
    flags = ["--target", NVPTX_TARGET, f"-Copt-level={config.opt_level}", f"-Ctarget-cpu={arch}",
             "--edition", "2021"]  # fmt: skip
    if config.debug_line_info:
        # Fuller debuginfo emits .debug_aranges, which ptxas cannot parse (rust/rustg-core).
        flags.append("-Cdebuginfo=line-directives-only")
    return flags


def _run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command, env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolError(f"cannot run {command[0]}: {exc}") from exc


def _core_rlib(rustc: RustcForNvptx, config: KernelConfig, arch: str, out: Path) -> Path:
    """rustg-core for one arch, built once per (rustc, sources, flags)."""
    core = rustg_core_dir()
    key = blake3.blake3(
        "\0".join([rustc.version, tree_digest(core), *_flags(config, arch)]).encode()
    ).hexdigest()[:16]
    rlib = out / ".core" / f"{arch}-{key}" / "librustg_core.rlib"
    if rlib.is_file():
        return rlib
    rlib.parent.mkdir(parents=True, exist_ok=True)
    done = _run(
        [*rustc.command, *_flags(config, arch), "--crate-type=rlib", "--crate-name", "rustg_core",
         str(core / "src" / "lib.rs"), "-o", str(rlib)],
        rustc.environ(), out,
    )  # fmt: skip
    if done.returncode != 0:
        raise ToolError(f"building rustg-core for {arch} failed:\n{done.stderr.strip()}")
    return rlib


def map_rustc_diagnostic(
    raw: dict[str, Any], extraction: Extraction, generated_name: str
) -> Diagnostic | None:
    """One rustc JSON diagnostic about the generated crate → the user's file and line. Spans
    in other files (rustg-core, reached through a macro) follow their expansion chain back to
    the generated crate, or are dropped."""
    if raw.get("$message_type", "diagnostic") != "diagnostic":
        return None
    message = raw.get("message", "")
    if message.startswith(
        ("aborting due to", "Some errors have detailed", "For more information about")
    ) or _SUMMARY.match(message):
        return None

    def in_generated(span: dict[str, Any] | None) -> dict[str, Any] | None:
        while span is not None and Path(span.get("file_name", "")).name != generated_name:
            span = (span.get("expansion") or {}).get("span")
        return span

    def spans(raw_spans: list[dict[str, Any]]) -> list[Span]:
        mapped = []
        for original in raw_spans:
            s = in_generated(original)
            if s is None:
                continue
            s = {**s, "is_primary": original.get("is_primary"), "label": original.get("label")}
            start = extraction.origin(s["line_start"], s["column_start"])
            end = extraction.origin(s["line_end"], s["column_end"])
            if start is None or end is None:
                continue
            mapped.append(Span(file=start[0], line=start[1], column=start[2], end_line=end[1],
                               end_column=end[2], label=s.get("label"),
                               primary=bool(s.get("is_primary"))))  # fmt: skip
        return mapped

    all_spans = spans(raw.get("spans", []))
    primary = next((s for s in all_spans if s.primary), all_spans[0] if all_spans else None)
    level = raw.get("level", "error")
    severity = {"warning": Severity.WARNING, "note": Severity.NOTE, "help": Severity.HELP}.get(
        level, Severity.ERROR
    )
    children = [
        DiagnosticChild(
            severity={"help": Severity.HELP, "warning": Severity.WARNING}.get(
                c.get("level", ""), Severity.NOTE
            ),
            message=c.get("message", ""),
            spans=spans(c.get("spans", [])),
        )
        for c in raw.get("children", [])
    ]
    if primary is None:
        # Not at a user line (e.g. in rustg-core): keep it, at the first kernel, and say so.
        first = extraction.kernels[0] if extraction.kernels else None
        file, line, column = (first.file, first.line, 1) if first else ("Cargo.toml", 1, 1)
        primary = Span(file=file, line=line, column=column, end_line=line, end_column=column + 1,
                       primary=True)  # fmt: skip
        children.append(
            DiagnosticChild(severity=Severity.NOTE, message="reported outside your kernel code")
        )
    code = (raw.get("code") or {}).get("code")
    return Diagnostic(
        source=SOURCE, severity=severity, message=message, file=primary.file, line=primary.line,
        column=primary.column, end_line=primary.end_line, end_column=primary.end_column,
        code=code, spans=all_spans, children=children,
    )  # fmt: skip


def _compile_ptx(
    rustc: RustcForNvptx, config: KernelConfig, arch: str, *, generated: Path, core: Path,
    ptx: Path, extraction: Extraction,
) -> tuple[list[str], list[Diagnostic]]:  # fmt: skip
    done = _run(
        [*rustc.command, *_flags(config, arch), "--crate-type=lib", "--crate-name",
         extraction.crate_name, "--emit=asm", "--error-format=json",
         "--extern", f"rustg={core}", "--extern", f"core={core}", "--extern", f"std={core}",
         str(generated), "-o", str(ptx)],
        rustc.environ(), generated.parent,
    )  # fmt: skip
    raw = [line for line in done.stderr.splitlines() if line.startswith("{")]
    diagnostics = map_rustc_output(raw, extraction, generated.name)
    if done.returncode != 0 and not any(d.severity is Severity.ERROR for d in diagnostics):
        raise ToolError(f"rustc failed on the kernels of {extraction.crate_name}: {done.stderr}")
    return raw, diagnostics


def map_rustc_output(
    raw: list[str], extraction: Extraction, generated_name: str
) -> list[Diagnostic]:
    diagnostics = []
    for line in raw:
        try:
            mapped = map_rustc_diagnostic(json.loads(line), extraction, generated_name)
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if mapped is not None:
            diagnostics.append(mapped)
    return dedupe(diagnostics)  # the same lint can be emitted once per codegen query


def build_package(
    root: Path,
    package_dir: Path,
    crate: str,
    config: KernelConfig,
    *,
    rustc: RustcForNvptx,
    cuda: CudaTools,
    cache: Cache | None,
    out_dir: Path,
) -> PackageBuild:
    started = time.monotonic()
    extraction = extract(root, package_dir, crate)
    build = PackageBuild(crate=crate, extraction=extraction)
    if not extraction.kernels:
        return build
    core_digest = tree_digest(rustg_core_dir())
    with tempfile.TemporaryDirectory(prefix="rustg-kernels-") as tmp:
        generated = Path(tmp) / f"{crate}.rs"
        generated.write_text(extraction.source)
        keys: list[str] = []
        for arch in config.archs:
            result = ArchResult(arch)
            build.archs.append(result)
            arch_dir = out_dir / arch
            arch_dir.mkdir(parents=True, exist_ok=True)
            key = (
                ActionKeyBuilder("kernel-ptx")
                .add_str("crate", crate)
                .add_bytes("source", extraction.source.encode())
                .add_digest("rustg-core", core_digest)
                .add_str("rustc", rustc.version)
                .add_str("ptxas", cuda.version if cuda.can_assemble else "")
                .add_strs("flags", _flags(config, arch))
                .finish()
            )
            keys.append(key.hex)
            hit = cache.get(key) if cache is not None else None
            ptx, cubin = arch_dir / f"{crate}.ptx", arch_dir / f"{crate}.cubin"
            if hit is not None:
                result.cached = True
                ptx.write_bytes(hit.outputs["ptx"])
                if "cubin" in hit.outputs:
                    cubin.write_bytes(hit.outputs["cubin"])
                result.resources = _RESOURCES.decode(hit.outputs.get("resources", b"[]"))
                # Re-mapped through today's extraction: host lines added above a kernel since
                # move its warnings, and the cached positions are the generated crate's.
                raw = hit.outputs.get("rustc.jsonl", b"").decode().splitlines()
                build.diagnostics.extend(map_rustc_output(raw, extraction, generated.name))
            else:
                core = _core_rlib(rustc, config, arch, out_dir)
                raw, diagnostics = _compile_ptx(
                    rustc, config, arch, generated=generated, core=core, ptx=ptx,
                    extraction=extraction,
                )  # fmt: skip
                build.diagnostics.extend(diagnostics)
                if not build.ok:
                    return _finish(build, started)
                outputs = {"ptx": ptx.read_bytes(), "rustc.jsonl": "\n".join(raw).encode()}
                if cuda.ptxas is not None:
                    try:
                        result.resources = assemble(cuda.ptxas, ptx, arch, cubin)
                    except PtxasFailed as exc:
                        build.diagnostics.append(_ptxas_diagnostic(exc, extraction))
                        return _finish(build, started)
                    outputs["cubin"] = cubin.read_bytes()
                    outputs["resources"] = msgspec.json.encode(result.resources)
                if cache is not None:
                    cache.put(key, outputs)
            result.ptx = ptx
            result.cubin = cubin if cubin.is_file() and cuda.ptxas is not None else None
        if cuda.fatbinary is not None and all(a.cubin for a in build.archs):
            _fatbins(build, keys, cuda.fatbinary, cache, out_dir)
    build.manifest = _write_manifest(build, out_dir, rustc, config)
    return _finish(build, started)


def _fatbins(
    build: PackageBuild, arch_keys: list[str], fatbinary: Path, cache: Cache | None, out_dir: Path
) -> None:
    """One fatbin with every arch's cubin and PTX, written into each arch's folder; cached
    under the arch builds' keys (packing costs a process start per build otherwise)."""
    key = ActionKeyBuilder("kernel-fatbin").add_strs("archs", arch_keys).finish()
    hit = cache.get(key) if cache is not None else None
    if hit is not None:
        data = hit.outputs["fatbin"]
    else:
        images = [(a.arch, a.cubin, a.ptx) for a in build.archs if a.cubin and a.ptx]
        packed = out_dir / f".{build.crate}.{os.getpid()}.{time.monotonic_ns()}.fatbin.tmp"
        pack_fatbin(fatbinary, images, packed)
        data = packed.read_bytes()
        packed.unlink()
        if cache is not None:
            cache.put(key, {"fatbin": data})
    for a in build.archs:
        a.fatbin = out_dir / a.arch / f"{build.crate}.fatbin"
        a.fatbin.write_bytes(data)


def _finish(build: PackageBuild, started: float) -> PackageBuild:
    build.diagnostics = dedupe(build.diagnostics)  # every arch reports the same warnings
    build.seconds = time.monotonic() - started
    return build


def _ptxas_diagnostic(exc: PtxasFailed, extraction: Extraction) -> Diagnostic:
    first = extraction.kernels[0]
    return Diagnostic(
        source=SOURCE, severity=Severity.ERROR,
        message=f"ptxas rejected the generated PTX for {exc.arch}: "
        + "; ".join(m.message for m in exc.messages[:3]),
        file=first.file, line=first.line, column=first.column, end_line=first.line,
        end_column=first.column + 1, rendered=exc.output,
    )  # fmt: skip


def _write_manifest(
    build: PackageBuild, out_dir: Path, rustc: RustcForNvptx, config: KernelConfig
) -> Path:
    resources = {(r.kernel, a.arch): r for a in build.archs for r in a.resources}
    doc = {
        "version": MANIFEST_VERSION,
        "crate": build.crate,
        "archs": [a.arch for a in build.archs],
        "rustc": rustc.version.splitlines()[0],
        "opt_level": config.opt_level,
        "debug_line_info": config.debug_line_info,
        "source_digest": blake3.blake3(build.extraction.source.encode()).hexdigest(),
        "files": {
            a.arch: {
                kind: path.relative_to(out_dir).as_posix()
                for kind, path in (("ptx", a.ptx), ("cubin", a.cubin), ("fatbin", a.fatbin))
                if path is not None
            }
            for a in build.archs
        },
        "kernels": [
            {
                "name": k.name,
                "path": k.module_path,
                "file": k.file,
                "line": k.line,
                "column": k.column,
                "params": [{"name": p.name, "type": p.type} for p in k.params],
                "limits": _limits(config, k.name),
                "resources": {
                    a.arch: msgspec.to_builtins(resources[(k.name, a.arch)])
                    for a in build.archs
                    if (k.name, a.arch) in resources
                },
            }
            for k in build.extraction.kernels
        ],
        "device_functions": build.extraction.device_functions,
    }
    path = out_dir / f"{build.crate}.manifest.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def _limits(config: KernelConfig, kernel: str) -> dict[str, Any]:
    limits = config.limits(kernel)
    return {
        "block": list(limits.block) if limits.block else None,
        "grid": list(limits.grid) if limits.grid else None,
        "max_threads_per_block": limits.max_threads_per_block,
        "shared_memory_bytes": limits.shared_memory_bytes,
    }
