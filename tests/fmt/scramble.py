"""Whitespace scrambling that keeps the token stream (for restoration tests and the bench)."""

from __future__ import annotations

import random

from rustg.gpu.lexer import lex_cpu  # noqa: F401  (warms numba on import in tests)
from rustg.gpu.tokens import TokenKind, is_punct


def scramble(source: bytes, seed: int) -> bytes:
    """Lines joined (never after a line comment), indentation stripped, random spaces between
    tokens (never between two puncts: `- >` is not `->`), blank lines doubled."""
    from rustg.gpu.backend import Device, get_backend

    rng = random.Random(seed)
    arrays = get_backend().lex_bytes(source, device=Device.CPU)
    kinds = arrays.kind.tolist()
    starts, ends = arrays.start.tolist(), arrays.end.tolist()
    line_comment = {int(TokenKind.LINE_COMMENT), int(TokenKind.OUTER_LINE_DOC),
                    int(TokenKind.INNER_LINE_DOC), int(TokenKind.SHEBANG)}  # fmt: skip
    ws = int(TokenKind.WHITESPACE)
    dot, integer = int(TokenKind.DOT), int(TokenKind.INT)
    out: list[bytes] = []
    for i, kind in enumerate(kinds):
        text = source[starts[i] : ends[i]]
        if kind == ws:
            prev = kinds[i - 1] if i else -1
            if b"\n" in text:
                if prev not in line_comment and rng.random() < 0.3:
                    text = b" "  # join the lines
                elif text.count(b"\n") >= 2:
                    text = b"\n" * (2 * text.count(b"\n"))  # doubled, indentation stripped
                else:
                    text = b"\n"  # indentation stripped
            elif rng.random() < 0.3:
                text = b" " * rng.randint(1, 3)
        else:
            out_kind_prev = kinds[i - 1] if i else ws
            # `x.0.y`: a space after the second `.` would make `0.` a float literal
            after_int_dot = i >= 2 and out_kind_prev == dot and kinds[i - 2] == integer
            if (
                out_kind_prev != ws
                and not (is_punct(kind) and is_punct(out_kind_prev))
                and not after_int_dot
                and rng.random() < 0.2
            ):
                out.append(b" ")
        out.append(text)
    scrambled = b"".join(out)
    from rustg.gpu.fmt.safety import significant_tokens

    if significant_tokens(scrambled) != significant_tokens(source):
        raise AssertionError("scramble changed the token stream")  # a bug here, not a finding
    return scrambled
