"""The rule language on the real corpus: the DFA's whole-file matches equal Python's ``re``
on every file, and pattern rules run over a sample of files without failing (a pattern rule
once crashed on files with no candidate: only the corpus found it)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from rustg.gpu.lint.context import LintFile
from rustg.gpu.lint.regex_dfa import DfaBank, RegexUse, compile_regex
from rustg.gpu.lint.user_rules import parse_rules
from rustg.gpu.sources import SourceSet

# Regexes whose leftmost-longest and leftmost-first matches coincide, so re is an exact oracle.
REGEXES = ["TODO[^(]", "FIXME", "unsafe\\s*\\{", "0x[0-9a-fA-F]{9,}", "\\.unwrap\\(\\)", "'[a-z]+"]
PATTERNS = ["$X.unwrap()", "unsafe { $$$B }", "assert_eq!($A, $A)", "Vec::new()", "f($$$A)"]


@pytest.mark.corpus
@pytest.mark.slow
def test_dfa_matches_equal_re_on_the_corpus(corpus: SourceSet) -> None:
    buf, fo = corpus.buffer, corpus.file_offsets
    bank = DfaBank([compile_regex(r, RegexUse.FILE) for r in REGEXES])
    m = bank.scan_files(list(range(len(REGEXES))), buf, fo)
    text = buf.tobytes()
    for ri, rx in enumerate(re.compile(r.encode()) for r in REGEXES):
        want = [
            (x.start(), x.end())  # with pos/endpos, offsets are already absolute
            for f in range(len(fo) - 1)
            for x in rx.finditer(text, int(fo[f]), int(fo[f + 1]))
        ]
        sel = m.rule == ri
        got = list(zip(m.start[sel].tolist(), m.end[sel].tolist(), strict=True))
        assert got == want, REGEXES[ri]


@pytest.mark.corpus
@pytest.mark.slow
def test_pattern_rules_on_a_corpus_sample(corpus: SourceSet) -> None:
    toml = "\n".join(
        f"[[rule]]\nname = 'p{i}'\npattern = '{p}'\nmessage = 'm'\n" for i, p in enumerate(PATTERNS)
    )
    rules, problems = parse_rules(toml, "<test>")
    assert problems == []
    buf, fo = corpus.buffer, corpus.file_offsets
    total = np.zeros(len(rules), dtype=np.int64)
    for f in range(0, len(fo) - 1, 40):
        src = buf[fo[f] : fo[f + 1]].tobytes()
        ctx = LintFile.from_source(str(corpus.paths[f]), src)
        for i, r in enumerate(rules):
            for finding in r.check(ctx):
                assert 0 <= finding.start < finding.end <= len(src)
                total[i] += 1
    assert total[0] > 0 and total[1] > 0  # unwrap and unsafe blocks are common in real code
