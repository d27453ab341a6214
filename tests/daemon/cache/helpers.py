"""Small builders shared by the cache tests."""

from __future__ import annotations

from rustg.daemon.cache import ActionKey, ActionKeyBuilder
from rustg.protocol import Diagnostic, Severity


def key(n: int, kind: str = "ptx") -> ActionKey:
    return ActionKeyBuilder(kind).add_str("source", f"kernel {n}").add_str("arch", "sm_80").finish()


def ptx(n: int, size: int = 4000) -> bytes:
    """PTX-like text, distinct per ``n`` (compresses like the real thing: repetitive)."""
    body = "".join(f"\tadd.s32 \t%r{i % 64}, %r{(i + n) % 64}, {n};\n" for i in range(size // 30))
    return f"// kernel {n}\n.version 8.5\n.target sm_80\n{body}".encode()


def warning(message: str, line: int = 3) -> Diagnostic:
    return Diagnostic(
        source="rustc", severity=Severity.WARNING, message=message, file="src/kernels.rs",
        line=line, column=5, end_line=line, end_column=9, code="unused_variables",
    )  # fmt: skip
