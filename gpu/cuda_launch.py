"""Small pieces every numba-cuda module of the engine shares: kernel launches over n rows that
skip numba-cuda's per-call argument handling, and the "which segment owns row i" search over
an offsets table.

Why a launcher of our own: numba-cuda types and converts every argument on every launch
(DLPack typing, a strided memory view, a device array wrapper: about 60 us per CuPy array
on the H200 machine). The engine's cold load makes 19 launches with 159 array arguments, so
that was 8 ms of host time, much of it exposed: the GPU drains at each count readback and then
waits for the next launch. Here the first launch of a kernel with given argument types goes
through numba (compiling if needed); later launches with the same types reuse its compiled
kernel and pack the arguments as numba's ``_Kernel._prepare_args`` does (meminfo, parent,
size, itemsize, pointer, shape, strides for an array; a ctypes value for a scalar), in a few
microseconds each. Anything else (host arrays numba would copy, other argument types, the
simulator) always takes numba's own path.

Imported lazily, like the kernel modules that use it (it imports ``numba.cuda``).
"""

# mypy: allow-untyped-defs, allow-untyped-calls, disable-error-code="attr-defined"

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from typing import Any

from numba import cuda, types

__all__ = ["launch", "launch_grid", "segment_of"]

_SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"

Packer = Callable[[Any, list[Any]], None]
#: (kernel, argument keys) -> (compiled kernel, packers, stream), or None: numba's path only.
_FAST: dict[tuple[int, tuple[Any, ...]], tuple[Any, tuple[Packer, ...], Any] | None] = {}


def launch(kernel: Any, n: int, threads: int, *args: Any) -> None:
    """One thread per row of ``n`` (nothing when ``n`` is 0), ``threads`` per block."""
    if n:
        launch_grid(kernel, (n + threads - 1) // threads, threads, *args)


def launch_grid(kernel: Any, blocks: int, threads: int, *args: Any) -> None:
    """``kernel[blocks, threads](*args)`` (1-D), through the fast path where it applies."""
    if _SIMULATOR:
        kernel[blocks, threads](*args)
        return
    key = (id(kernel), tuple(_arg_key(a) for a in args))
    try:
        entry = _FAST[key]
    except KeyError:
        configured = kernel[blocks, threads]
        configured(*args)  # numba's path: compiles on first use, then launches
        entry = _FAST[key] = _fast_entry(kernel, args, configured.stream)
        return
    if entry is None:
        kernel[blocks, threads](*args)
        return
    compiled, packers, stream = entry
    kernelargs: list[Any] = []
    for pack, a in zip(packers, args, strict=True):
        pack(a, kernelargs)
    config = _launch_config((blocks, 1, 1), (threads, 1, 1))
    _core_launch(stream, config, compiled._codelibrary.get_cufunc().kernel, *kernelargs)


def _arg_key(a: Any) -> Any:
    """What numba's typing of ``a`` depends on, cheaply: for a device array its dtype, rank
    and layout; for anything else its Python type (and a NumPy scalar's dtype)."""
    cai = type(a).__module__.startswith("cupy")
    if cai and hasattr(a, "data"):
        f = a.flags
        return ("cupy", a.dtype.str, a.ndim, f.c_contiguous, f.f_contiguous)
    dtype = getattr(a, "dtype", None)
    return (type(a), None if dtype is None else dtype.str)


def _fast_entry(kernel: Any, args: tuple[Any, ...], stream: Any) -> Any:
    """The compiled kernel numba chose for ``args`` and a packer per argument, or None where
    any argument is not a CuPy array or a plain scalar (numba's path handles those)."""
    if not all(type(a).__module__.startswith("cupy") or _is_scalar(a) for a in args):
        return None
    argtypes = tuple(kernel.typeof_pyval(a) for a in args)
    compiled = kernel.overloads.get(argtypes)
    if compiled is None or compiled.debug or compiled.cooperative or compiled.extensions:
        return None
    packers = []
    for ty in compiled.argument_types:
        pack = _packer(ty)
        if pack is None:
            return None
        packers.append(pack)
    return compiled, tuple(packers), stream


def _is_scalar(a: Any) -> bool:
    return isinstance(a, int | float | bool) or (hasattr(a, "dtype") and getattr(a, "ndim", 1) == 0)


def _packer(ty: Any) -> Packer | None:
    """The kernel parameters of one argument, as numba-cuda's ``_prepare_args`` lays them out."""
    if isinstance(ty, types.Array):

        def pack_array(a: Any, out: list[Any]) -> None:
            out.extend((0, 0, a.size, a.itemsize, a.data.ptr))  # meminfo, parent, ...
            out.extend(a.shape)
            out.extend(a.strides)

        return pack_array
    if isinstance(ty, types.Boolean):
        return lambda a, out: out.append(bool(a))
    if isinstance(ty, types.Integer):
        c_int = getattr(ctypes, f"c_{ty}")
        return lambda a, out: out.append(c_int(int(a)))
    if ty == types.float64:
        return lambda a, out: out.append(ctypes.c_double(float(a)))
    if ty == types.float32:
        return lambda a, out: out.append(ctypes.c_float(float(a)))
    return None


def _launch_config(grid: tuple[int, int, int], block: tuple[int, int, int]) -> Any:
    from cuda.core import LaunchConfig
    from numba.cuda._compat import CUDA_CORE_GE_1_0

    if CUDA_CORE_GE_1_0:
        return LaunchConfig(grid=grid, block=block, shmem_size=0, is_cooperative=False)
    return LaunchConfig(grid=grid, block=block, shmem_size=0, cooperative_launch=False)


def _core_launch(stream: Any, config: Any, kernel: Any, *args: Any) -> None:
    from cuda.core import launch as core_launch

    core_launch(stream, config, kernel, *args)


@cuda.jit(device=True)
def segment_of(offsets, i):
    """The segment owning row i of ``offsets`` (segment s is [offsets[s], offsets[s + 1])):
    the last segment starting at or before i, so empty segments are skipped. Needs
    0 <= i < offsets[-1]."""
    lo = 0
    hi = offsets.shape[0] - 2
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if offsets[mid] <= i:
            lo = mid
        else:
            hi = mid - 1
    return lo
