"""Exceptions of the engine layer (``rustg.gpu``).

::

    EngineError                      anything the engine raises on purpose
    ├── EngineInputError (ValueError)   arrays handed to the engine break its contract
    │   └── BufferTooLarge               a lexed buffer beyond the int32 token offsets
    └── BackendUnavailable              RUSTG_BACKEND=cuda (or an explicit request) without a
                                        usable GPU, numba-cuda or CuPy

Foreign exceptions from numba, CuPy or the CUDA driver are translated at the backend boundary
(:mod:`rustg.gpu.backend`) into ``BackendUnavailable`` when they mean "no GPU here", and are
otherwise left alone: a crash inside a kernel is a bug, not an outcome.
"""

from __future__ import annotations

__all__ = ["BackendUnavailable", "BufferTooLarge", "EngineError", "EngineInputError"]


class EngineError(Exception):
    """Base of the engine's exceptions."""


class EngineInputError(EngineError, ValueError):
    """Arrays handed to the engine break its contract (dtype, shape, offsets)."""


class BufferTooLarge(EngineInputError):
    """The concatenated buffer does not fit the int32 offsets of ``TokenArrays``."""


class BackendUnavailable(EngineError):
    """The requested backend cannot run on this machine."""
