"""``file_status_of`` (bytes only) gives the verdict the lexer gives: one rule, two places."""

from __future__ import annotations

import numpy as np
import pytest

from rustg.gpu.lexer import lex_cpu
from rustg.gpu.tokens import FileStatus, file_status_of

LIMIT = 64


@pytest.mark.parametrize(
    "content",
    [b"fn f() {}\n", b"", b"a\0b", b"x" * LIMIT, b"x" * (LIMIT + 1), b"\0" * (LIMIT + 1)],
)
def test_bytes_verdict_equals_the_lexers(content: bytes) -> None:
    buf = np.frombuffer(content, dtype=np.uint8)
    lexed = lex_cpu(buf, np.array([0, len(buf)], dtype=np.int64), max_file_bytes=LIMIT)
    assert file_status_of(content, LIMIT) is FileStatus(int(lexed.file_status[0]))
