#!/usr/bin/env bash
# The kernel pipeline of `cargo g build`, by hand: one file of kernel-dialect Rust in, PTX,
# cubin and a fatbin per architecture out. cargo-g does the same steps (with extraction by the
# engine, a span map, caching and a manifest); this script is the reference for the exact
# commands and the shape of the generated crate.
#
#   scripts/build-ptx-by-hand.sh [KERNELS_RS [CRATE_NAME [OUT_DIR [ARCH...]]]]
#
# Defaults: examples/gpu-kernels/crates/kernels/src/kernels.rs, gpu_kernels,
# examples/gpu-kernels/target/rustg (where the example app looks for its kernels), sm_80 sm_90.
# Environment: RUSTG_DEBUG_LINES=1 adds `.loc` line directives (-C debuginfo=line-directives-only);
# RUSTG_TOOLCHAIN=stable (or any rustup toolchain) picks that rustc, with RUSTC_BOOTSTRAP=1.
#
# The input file must hold only kernel-dialect items (docs/kernel-dialect.md), as the example's
# kernels.rs does; the transformation below is line-based: it drops `#[rustg::device]` and
# `#[rustg::lint(..)]` lines and turns the `fn` after a `#[rustg::kernel]` line into
# `#[unsafe(no_mangle)] extern "ptx-kernel"`.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kernels=${1:-$repo/examples/gpu-kernels/crates/kernels/src/kernels.rs}
crate=${2:-gpu_kernels}
out=${3:-$repo/examples/gpu-kernels/target/rustg}
shift $(($# < 3 ? $# : 3))
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(sm_80 sm_90)
core_src=$repo/rust/rustg-core/src/lib.rs

# 1. A rustc that accepts #![feature]: nightly, else stable with RUSTC_BOOTSTRAP=1. Either needs
#    the nvptx64-nvidia-cuda target in its target list (no core for it is needed: rustg-core is
#    #![no_core]).
if [ -n "${RUSTG_TOOLCHAIN:-}" ]; then
    rustc=(env RUSTC_BOOTSTRAP=1 rustc "+$RUSTG_TOOLCHAIN")
elif rustc +nightly --version >/dev/null 2>&1; then
    rustc=(rustc +nightly)
else
    rustc=(env RUSTC_BOOTSTRAP=1 rustc)
fi
"${rustc[@]}" --print target-list | grep -qx nvptx64-nvidia-cuda ||
    { echo "error: ${rustc[*]} has no nvptx64-nvidia-cuda target" >&2; exit 1; }
echo "rustc: $("${rustc[@]}" --version)"

flags=(--target nvptx64-nvidia-cuda -C opt-level=3)
[ "${RUSTG_DEBUG_LINES:-0}" = 1 ] && flags+=(-C debuginfo=line-directives-only)

# 2. The generated crate: a #![no_core] lib whose prelude is rustg-core's, the kernel source after
#    it. rustg-core is passed three times: as `rustg` (the paths kernels write: rustg::thread_idx_x),
#    as `core` (the paths derives expand to: ::core::clone::Clone) and as `std` (std::mem::swap and
#    friends resolve to its core-shaped subset).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
generated=$work/$crate.rs
{
    cat <<'EOF'
#![feature(no_core, abi_ptx, prelude_import)]
#![no_core]
#![allow(internal_features, unused_unsafe, dead_code)]
#[prelude_import]
#[allow(unused_imports)]
use rustg::prelude::*;
EOF
    # In a module named after the file, as on the host: the file's inner `//!` docs stay legal
    # and the kernels keep their module path.
    echo "pub mod $(basename "$kernels" .rs) {"
    awk '
        /^[[:space:]]*#\[rustg::device\][[:space:]]*$/ { next }
        /^[[:space:]]*#\[rustg::lint\(.*\)\][[:space:]]*$/ { next }
        /^[[:space:]]*#\[rustg::kernel\][[:space:]]*$/ { kernel = 1; next }
        kernel && /^[[:space:]]*(pub(\([^)]*\))?[[:space:]]+)?(unsafe[[:space:]]+)?fn[[:space:]]/ {
            match($0, /^[[:space:]]*/)
            indent = substr($0, 1, RLENGTH)
            print indent "#[unsafe(no_mangle)]"
            sub(/fn[[:space:]]/, "extern \"ptx-kernel\" fn ")
            kernel = 0
        }
        { print }
    ' "$kernels"
    echo "}"
} >"$generated"

for arch in "${archs[@]}"; do
    dir=$out/$arch
    mkdir -p "$dir" "$work/$arch"
    # 3. rustg-core as an rlib for this arch. Its functions are all #[inline] or generic, so
    #    they are code-generated into the kernel crate's PTX; the rlib itself contributes none.
    #    (The file name must be lib<name>.rlib.)
    "${rustc[@]}" "${flags[@]}" -C target-cpu="$arch" --edition 2021 --crate-type=rlib \
        --crate-name rustg_core "$core_src" -o "$work/$arch/librustg_core.rlib"
    core=$work/$arch/librustg_core.rlib
    # 4. The kernels to PTX.
    "${rustc[@]}" "${flags[@]}" -C target-cpu="$arch" --edition 2021 --crate-type=lib \
        --crate-name "$crate" --emit=asm \
        --extern rustg="$core" --extern core="$core" --extern std="$core" \
        "$generated" -o "$dir/$crate.ptx"
    # 5. PTX to SASS: proves the PTX valid before any GPU sees it and gives the resource figures.
    ptxas -arch="$arch" -v "$dir/$crate.ptx" -o "$dir/$crate.cubin" 2>"$dir/$crate.ptxas.txt"
    echo "== $arch: $dir/$crate.ptx"
    awk '/Compiling entry function/ { k = $7; gsub(/\047/, "", k) }
         /bytes stack frame/ { sub(/^ */, ""); frame = $0 }
         /Used [0-9]+ registers/ { sub(/^ptxas info *: */, ""); printf "   %-14s %s; %s\n", k, $0, frame }' \
        "$dir/$crate.ptxas.txt"
done

# 6. One fatbin with every arch's SASS and PTX (kept for forward compatibility, as nvcc -gencode
#    does): the driver picks the SASS for its GPU, or JIT-compiles the newest PTX.
images=()
for arch in "${archs[@]}"; do
    sm=${arch#sm_}
    images+=("--image3=kind=elf,sm=$sm,file=$out/$arch/$crate.cubin")
    images+=("--image3=kind=ptx,sm=$sm,file=$out/$arch/$crate.ptx")
done
for arch in "${archs[@]}"; do
    fatbinary --create="$out/$arch/$crate.fatbin" -64 "${images[@]}"
done
echo "fatbin: $out/<arch>/$crate.fatbin (${archs[*]})"
