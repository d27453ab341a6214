"""Building one package's kernels: extract → per kernel and arch, rustc (nvptx64) → PTX and
``ptxas -c`` → relocatable cubin → per arch, the pieces merged (PTX) and ``nvlink``ed (cubin)
into the crate's module → fatbin, with the content-addressed cache in front of every expensive
step and a manifest at the end.

The unit of compilation and caching is one kernel with what it reaches (``Extraction.units``):
editing a kernel, or a device fn, rebuilds only the kernels that reach the edit; the crate's
module is then relinked from cached pieces (tens of milliseconds).

Outputs (under the workspace's ``target/rustg``):

    <arch>/<crate>.ptx      the merged PTX per arch (kept in the fatbin too: newer GPUs JIT it)
    <arch>/<crate>.cubin    the linked SASS per arch, when ptxas is installed
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import blake3
import msgspec

from rustg.protocol import Diagnostic, DiagnosticChild, Severity, Span

from ..cache import ActionKey, ActionKeyBuilder, Cache
from ..errors import ToolError
from ..rustc_diagnostics import dedupe
from .config import KernelConfig
from .extract import Extraction, extract
from .procs import Cancellation, run_tool
from .ptx import (
    KernelResources,
    PtxasFailed,
    assemble,
    cubin_entry_points,
    link_cubins,
    merge_ptx,
    pack_fatbin,
)
from .toolchain import NVPTX_TARGET, CudaTools, RustcForNvptx

SOURCE = "rustg-kernel"
UNIT_DIR = "rustg-unit"  # what a unit's folder is called in its PTX (--remap-path-prefix)
_SUMMARY = re.compile(r"^\d+ (warning|error)s? emitted$")
MANIFEST_VERSION = 1
_RESOURCES = msgspec.json.Decoder(list[KernelResources])


@dataclass(slots=True)
class UnitResult:
    """One kernel's piece for one arch."""

    kernel: str
    key: str  # the unit's action key (hex)
    number: int  # index into Extraction.units
    cached: bool = False
    ptx: bytes = b""
    cubin: bytes | None = None  # relocatable (ptxas -c), when ptxas is installed
    resources: list[KernelResources] = field(default_factory=list)
    rustc_json: list[str] = field(default_factory=list)  # rustc's diagnostics, raw
    failed: PtxasFailed | None = None


@dataclass(slots=True)
class ArchResult:
    arch: str
    ptx: Path | None = None
    cubin: Path | None = None
    fatbin: Path | None = None
    resources: list[KernelResources] = field(default_factory=list)
    cached: bool = False  # every kernel's piece came from the cache
    units: list[UnitResult] = field(default_factory=list)
    link_key: str = ""
    link_cached: bool = False


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


def _run(
    command: list[str], env: dict[str, str], cwd: Path, cancel: Cancellation | None
) -> subprocess.CompletedProcess[str]:
    return run_tool(command, env=env, cwd=cwd, timeout=600, cancel=cancel)


def _core_rlib(
    rustc: RustcForNvptx, config: KernelConfig, arch: str, out: Path, cancel: Cancellation | None
) -> Path:
    """rustg-core for one arch, built once per (rustc, sources, flags); written aside and
    renamed, so a concurrent build never links a half-written rlib."""
    core = rustg_core_dir()
    key = blake3.blake3(
        "\0".join([rustc.version, tree_digest(core), *_flags(config, arch), "remap"]).encode()
    ).hexdigest()[:16]
    rlib = out / ".core" / f"{arch}-{key}" / "librustg_core.rlib"
    if rlib.is_file():
        return rlib
    rlib.parent.mkdir(parents=True, exist_ok=True)
    aside = rlib.parent / f"{os.getpid()}-{time.monotonic_ns()}"
    aside.mkdir()
    done = _run(
        [*rustc.command, *_flags(config, arch), "--crate-type=rlib", "--crate-name", "rustg_core",
         f"--remap-path-prefix={core}=rustg-core",  # its inlined code's .loc lines too
         str(core / "src" / "lib.rs"), "-o", str(aside / rlib.name)],
        rustc.environ(), out, cancel,
    )  # fmt: skip
    if done.returncode != 0:
        raise ToolError(f"building rustg-core for {arch} failed:\n{done.stderr.strip()}")
    os.replace(aside / rlib.name, rlib)
    aside.rmdir()
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
    ptx: Path, extraction: Extraction, cancel: Cancellation | None = None,
) -> tuple[list[str], list[Diagnostic]]:  # fmt: skip
    done = _run(
        [*rustc.command, *_flags(config, arch), "--crate-type=lib", "--crate-name",
         extraction.crate_name, "--emit=asm", "--error-format=json",
         "--extern", f"rustg={core}", "--extern", f"core={core}", "--extern", f"std={core}",
         # No absolute paths in the PTX (it is cached and shared): the unit's file is found
         # again at link time (merge_ptx moves its .loc lines to the user's files).
         f"--remap-path-prefix={generated.parent}={UNIT_DIR}",
         f"--remap-path-prefix={rustg_core_dir()}=rustg-core",
         str(generated), "-o", str(ptx)],
        rustc.environ(), generated.parent, cancel,
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
    cancel: Cancellation | None = None,
) -> PackageBuild:
    """Extract, then per arch: every kernel's unit through the cache (rustc → PTX, ``ptxas -c``
    → relocatable cubin), the crate's module from the pieces (merged PTX, ``nvlink``ed cubin),
    the fatbin, the manifest. ``cancel`` stops it between (and during) tool runs."""
    started = time.monotonic()
    extraction = extract(root, package_dir, crate)
    build = PackageBuild(crate=crate, extraction=extraction)
    if not extraction.kernels:
        return build
    core_digest = tree_digest(rustg_core_dir())
    with tempfile.TemporaryDirectory(prefix="rustg-kernels-") as tmp:
        for arch in config.archs:
            build.archs.append(ArchResult(arch))
            (out_dir / arch).mkdir(parents=True, exist_ok=True)
        jobs: list[tuple[ArchResult, UnitResult, Extraction]] = []
        for result in build.archs:
            for number, unit in enumerate(extraction.units):
                key = (
                    ActionKeyBuilder("kernel-unit")
                    .add_str("crate", crate)
                    .add_str("kernel", unit.unit_name)
                    .add_bytes("source", unit.source.encode())
                    .add_digest("rustg-core", core_digest)
                    .add_str("rustc", rustc.version)
                    .add_str("ptxas", cuda.version if cuda.can_assemble else "")
                    .add_strs("flags", _flags(config, result.arch))
                    .finish()
                )
                piece = UnitResult(unit.unit_name, key.hex, number)
                result.units.append(piece)
                hit = cache.get(key) if cache is not None else None
                if hit is not None:
                    piece.cached = True
                    piece.ptx = hit.outputs["ptx"]
                    piece.cubin = hit.outputs.get("cubin")
                    piece.resources = _RESOURCES.decode(hit.outputs.get("resources", b"[]"))
                    piece.rustc_json = hit.outputs.get("rustc.jsonl", b"").decode().splitlines()
                else:
                    jobs.append((result, piece, unit))
        if jobs:
            for arch in {r.arch for r, _, _ in jobs}:  # rustg-core first, once per arch
                _core_rlib(rustc, config, arch, out_dir, cancel)
            workers = min(len(jobs), os.cpu_count() or 1)
            with ThreadPoolExecutor(workers, thread_name_prefix="rustg-unit") as pool:
                futures = [
                    pool.submit(_compile_unit, rustc, cuda, config, result.arch, piece=piece,
                                unit=unit, work=Path(tmp) / f"{result.arch}-{piece.number}",
                                out_dir=out_dir, cancel=cancel)
                    for result, piece, unit in jobs
                ]  # fmt: skip
                try:
                    for future in futures:
                        future.result()
                except BaseException:
                    if cancel is not None:
                        cancel.cancel()  # the other units' tools too
                    raise
            for _result, piece, _unit in jobs:
                if piece.ptx and piece.failed is None and cache is not None:
                    raw = "\n".join(piece.rustc_json).encode()
                    outputs = {"ptx": piece.ptx, "rustc.jsonl": raw}
                    if piece.cubin is not None:
                        outputs["cubin"] = piece.cubin
                        outputs["resources"] = msgspec.json.encode(piece.resources)
                    cache.put(ActionKey.from_hex(piece.key, "kernel-unit"), outputs)
        for result in build.archs:
            for piece in result.units:
                # Re-mapped through today's extraction: host lines added above a kernel since
                # move its warnings, and the cached positions are the unit's generated crate's.
                unit = extraction.units[piece.number]
                build.diagnostics.extend(map_rustc_output(piece.rustc_json, unit, f"{crate}.rs"))
                if piece.failed is not None:
                    build.diagnostics.append(
                        _ptxas_diagnostic(piece.failed, unit if unit.kernels else extraction)
                    )
            result.cached = all(p.cached for p in result.units)
        if not build.ok:
            return _finish(build, started)
        for result in build.archs:
            _link(build, result, cuda, cache, out_dir=out_dir, tmp=Path(tmp), cancel=cancel)
        if cuda.fatbinary is not None and all(a.cubin for a in build.archs):
            _fatbins(build, [a.link_key for a in build.archs], cuda.fatbinary, cache,
                     out_dir=out_dir, cancel=cancel)  # fmt: skip
    build.manifest = _write_manifest(build, out_dir, rustc, config)
    return _finish(build, started)


def _compile_unit(
    rustc: RustcForNvptx, cuda: CudaTools, config: KernelConfig, arch: str, *,
    piece: UnitResult, unit: Extraction, work: Path, out_dir: Path, cancel: Cancellation | None,
) -> None:  # fmt: skip
    """One kernel's unit for one arch: rustc → PTX, then ``ptxas -c`` → relocatable cubin and
    its resource figures. Fills ``piece``; a ptxas rejection is kept in ``piece.failed``."""
    work.mkdir(parents=True)
    # Every unit's file is named after the crate: rustc's crate name (and so every mangled
    # name, which merge_ptx relies on to keep a shared helper once) comes from --crate-name.
    generated = work / f"{unit.crate_name}.rs"
    generated.write_text(unit.source)
    ptx = work / f"{unit.crate_name}.ptx"
    core = _core_rlib(rustc, config, arch, out_dir, cancel)
    piece.rustc_json, diagnostics = _compile_ptx(
        rustc, config, arch, generated=generated, core=core, ptx=ptx, extraction=unit,
        cancel=cancel,
    )  # fmt: skip
    if any(d.severity is Severity.ERROR for d in diagnostics):
        return  # reported from piece.rustc_json; no PTX, so never cached
    piece.ptx = ptx.read_bytes()
    if cuda.ptxas is not None:
        cubin = work / f"{unit.crate_name}.cubin"
        try:
            piece.resources = assemble(cuda.ptxas, ptx, arch, cubin, relocatable=True,
                                       cancel=cancel)  # fmt: skip
        except PtxasFailed as exc:
            piece.failed = exc
            return
        piece.cubin = cubin.read_bytes()


def _link(
    build: PackageBuild, result: ArchResult, cuda: CudaTools, cache: Cache | None, *,
    out_dir: Path, tmp: Path, cancel: Cancellation | None,
) -> None:  # fmt: skip
    """The crate's module for one arch from its kernels' pieces: the merged PTX (checked by
    ptxas) and the nvlinked cubin (checked to hold every kernel); cached under the pieces'
    keys, so an unchanged crate costs one lookup."""
    units = [build.extraction.units[p.number] for p in result.units]
    key = (
        ActionKeyBuilder("kernel-link")
        .add_str("arch", result.arch)
        .add_strs("units", [p.key for p in result.units])
        # The merged PTX's .loc lines are at today's user lines (a line added above a kernel
        # moves them without changing the kernel's unit).
        .add_digest("lines", _lines_digest(units))
        .add_str("cuda", cuda.version)
        .finish()
    )
    result.link_key = key.hex
    arch_dir = out_dir / result.arch
    ptx, cubin = arch_dir / f"{build.crate}.ptx", arch_dir / f"{build.crate}.cubin"
    hit = cache.get(key) if cache is not None else None
    if hit is not None:
        result.link_cached = True
        ptx.write_bytes(hit.outputs["ptx"])
        if "cubin" in hit.outputs:
            cubin.write_bytes(hit.outputs["cubin"])
        result.resources = _RESOURCES.decode(hit.outputs.get("resources", b"[]"))
    else:
        merged = merge_ptx(
            [p.ptx.decode() for p in result.units],
            generated=f"{UNIT_DIR}/{build.crate}.rs",
            locate=[u.origin for u in units],
        )
        ptx.write_text(merged)
        outputs = {"ptx": merged.encode()}
        pieces = [p.cubin for p in result.units]
        if cuda.ptxas is not None and all(c is not None for c in pieces):
            work = tmp / f"link-{result.arch}"
            work.mkdir()
            # The merged module is what a driver JITs on a newer GPU: it must assemble too.
            # Its figures are the manifest's: a relocatable piece's leave out the shared
            # memory (allocated at link time), and nvlink's count the reserved 1 KiB in.
            try:
                result.resources = assemble(
                    cuda.ptxas, ptx, result.arch, work / "merged.cubin", cancel=cancel
                )
            except PtxasFailed as exc:
                raise ToolError(f"merged PTX of {build.crate} does not assemble: {exc}") from exc
            if cuda.nvlink is not None:
                paths = []
                for n, data in enumerate(pieces):
                    paths.append(work / f"{n}.cubin")
                    paths[-1].write_bytes(data)  # type: ignore[arg-type]
                link_cubins(cuda.nvlink, result.arch, paths, cubin, cancel=cancel)
            else:  # no nvlink: the merged module, assembled whole, is as good a cubin
                os.replace(work / "merged.cubin", cubin)
            data = cubin.read_bytes()
            missing = {k.name for k in build.extraction.kernels} - set(cubin_entry_points(data))
            if missing:
                raise ToolError(f"the linked cubin for {result.arch} lacks {sorted(missing)}")
            outputs["cubin"] = data
            outputs["resources"] = msgspec.json.encode(result.resources)
        if cache is not None:
            cache.put(key, outputs)
    result.ptx = ptx
    result.cubin = cubin if cubin.is_file() and cuda.ptxas is not None else None


def _lines_digest(units: list[Extraction]) -> bytes:
    hasher = blake3.blake3()
    for unit in units:
        for where in unit.lines:
            hasher.update(repr(where).encode() + b"\n")
        hasher.update(b"\0")
    return hasher.digest()


def _fatbins(
    build: PackageBuild, arch_keys: list[str], fatbinary: Path, cache: Cache | None, *,
    out_dir: Path, cancel: Cancellation | None = None,
) -> None:  # fmt: skip
    """One fatbin with every arch's cubin and PTX, written into each arch's folder; cached
    under the arch links' keys (packing costs a process start per build otherwise)."""
    key = ActionKeyBuilder("kernel-fatbin").add_strs("archs", arch_keys).finish()
    hit = cache.get(key) if cache is not None else None
    if hit is not None:
        data = hit.outputs["fatbin"]
    else:
        images = [(a.arch, a.cubin, a.ptx) for a in build.archs if a.cubin and a.ptx]
        packed = out_dir / f".{build.crate}.{os.getpid()}.{time.monotonic_ns()}.fatbin.tmp"
        pack_fatbin(fatbinary, images, packed, cancel=cancel)
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
