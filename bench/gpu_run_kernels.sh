#!/usr/bin/env bash
# The real-GPU check of issue 4: the kernels `cargo g build` makes for examples/gpu-kernels
# (per-kernel units merged into one PTX module and nvlinked into one cubin per arch, packed as
# a fatbin) load and compute the NumPy results through CuPy, and the example's host program
# launches them through the CUDA driver API with the same output as the host emulation.
#
# Two steps, because the GPU machine has no Rust toolchain and no network:
#
#   here (rustc nightly/stable, CUDA's ptxas/nvlink/fatbinary):
#       bench/gpu_run_kernels.sh prepare            # builds .device/gpu-kernels (git-ignored)
#   on the GPU machine (python3 with CuPy and NumPy; cuobjdump if there), from the repo root,
#   with .device/gpu-kernels carried:
#       bench/gpu_run_kernels.sh run [OUT_DIR]      # OUT_DIR defaults to $OUT, else /tmp/out
#
# `run` writes OUT_DIR/kernels-gpu.json (CuPy's results per loaded file, both host program
# outputs and whether they agree) and exits non-zero if anything failed. Copy that file to
# bench/results/kernels-gpu-<gpu>-<date>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
CARRY=.device/gpu-kernels

prepare() {
    local venv=${RUSTG_VENV:-.venv}
    rm -rf "$CARRY"
    mkdir -p "$CARRY"
    # A copy of the example, so the build leaves the source tree alone; rust/ beside it, as
    # the example's path dependencies expect (../../rust).
    mkdir -p "$CARRY/src/examples"
    cp -r examples/gpu-kernels "$CARRY/src/examples/"
    rm -rf "$CARRY/src/examples/gpu-kernels/target"
    cp -r rust "$CARRY/src/rust"
    rm -rf "$CARRY/src/rust/target"
    local ws="$CARRY/src/examples/gpu-kernels"
    # The kernels: target/rustg/<arch>/gpu_kernels.{ptx,cubin,fatbin} + the manifest.
    "$venv/bin/cargo-g" build --workspace "$ws"
    # The host program, built here; on the GPU machine it finds target/rustg from its folder.
    (cd "$ws" && cargo build --release --offline -p gpu-kernels-app)
    mkdir -p "$CARRY/target/release"
    cp "$ws/target/release/gpu-kernels-app" "$CARRY/target/release/"
    cp -r "$ws/target/rustg" "$CARRY/target/rustg"
    rm -rf "$CARRY/target/rustg/.core"
    RUSTG_DEVICE=emulator "$CARRY/target/release/gpu-kernels-app" >"$CARRY/emulated.txt"
    # Checked here already: what is carried is sound before any device time is spent.
    for arch_dir in "$CARRY"/target/rustg/sm_*; do
        ptxas -arch="$(basename "$arch_dir")" "$arch_dir/gpu_kernels.ptx" -o /dev/null
    done
    "$venv/bin/python" - "$CARRY/target/rustg" <<'EOF'
import json, sys
from pathlib import Path
from rustg.daemon.kernels.ptx import cubin_entry_points
root = Path(sys.argv[1])
manifest = json.loads((root / "gpu_kernels.manifest.json").read_text())
wanted = sorted(k["name"] for k in manifest["kernels"])
for arch in manifest["archs"]:
    found = sorted(cubin_entry_points((root / arch / "gpu_kernels.cubin").read_bytes()))
    assert found == wanted, (arch, found, wanted)
print(f"carry folder ready: {len(wanted)} kernels x {manifest['archs']}")
EOF
    rm -rf "$CARRY/src"  # the GPU machine needs only the artifacts and the program
    cp bench/gpu_kernel_check.py "$CARRY/"
    du -sh "$CARRY"
}

run() {
    local out=${1:-${OUT:-/tmp/out}}
    mkdir -p "$out"
    local rustg="$CARRY/target/rustg"
    nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader \
        | tee "$out/gpu.txt"
    local status=0
    python3 "$CARRY/gpu_kernel_check.py" "$rustg" --out "$out/cupy.json" || status=1
    "$CARRY/target/release/gpu-kernels-app" >"$out/host-gpu.txt" 2>&1 || status=1
    cat "$out/host-gpu.txt"
    if command -v cuobjdump >/dev/null; then
        for fatbin in "$rustg"/sm_*/gpu_kernels.fatbin; do
            cuobjdump --list-elf --list-ptx "$fatbin"
            cuobjdump --dump-elf-symbols "$fatbin" | grep -E ' (STO_ENTRY|FUNC)' || true
        done >"$out/cuobjdump.txt" 2>&1 || true
    fi
    python3 - "$out" "$CARRY/emulated.txt" <<'EOF' || status=1
import json, sys
from pathlib import Path
out, emulated = Path(sys.argv[1]), Path(sys.argv[2])
gpu_lines = (out / "host-gpu.txt").read_text().splitlines()
emu_lines = emulated.read_text().splitlines()
on_gpu = bool(gpu_lines) and gpu_lines[0].startswith("device: GPU")  # not the emulator
same = gpu_lines[1:] == emu_lines[1:] and on_gpu
report = {
    "benchmark": "gpu-kernels-on-gpu",
    "what": "examples/gpu-kernels built by `cargo g build` (per-kernel units, merged PTX, "
    "nvlinked cubin, fatbin) and its host program, both built on the dev machine; run here",
    "gpu": (out / "gpu.txt").read_text().strip(),
    "cupy": json.loads((out / "cupy.json").read_text()) if (out / "cupy.json").exists() else None,
    "host_program_on_gpu": gpu_lines,
    "host_program_emulated": emu_lines,
    "host_program_ran_on_gpu": on_gpu,
    "identical_apart_from_device_line": same,
}
if (out / "cuobjdump.txt").exists():
    report["cuobjdump"] = (out / "cuobjdump.txt").read_text().splitlines()
(out / "kernels-gpu.json").write_text(json.dumps(report, indent=2) + "\n")
cupy_ok = report["cupy"] is not None and all(
    all(r["results"].values()) for r in report["cupy"]["runs"].values()
)
print(f"CuPy: {'all kernels ok' if cupy_ok else 'FAILED'}; host program "
      f"{'matches the emulation' if same else 'DIFFERS from the emulation (or ran emulated)'}")
sys.exit(0 if cupy_ok and same else 1)
EOF
    return $status
}

case "${1:-}" in
    prepare) prepare ;;
    run) shift; run "$@" ;;
    *) echo "usage: $0 prepare | run [OUT_DIR]" >&2; exit 2 ;;
esac
