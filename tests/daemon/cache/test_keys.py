"""Action keys: canonical encoding, and no absolute path ever gets in."""

from __future__ import annotations

from pathlib import Path

import blake3
import pytest

from rustg.daemon.cache import ActionKey, ActionKeyBuilder, workspace_relative
from rustg.daemon.errors import CacheError

CORE = blake3.blake3(b"rustg-core prelude").hexdigest()


def kernel_key(root: Path | None, source: bytes, arch: str = "sm_80") -> ActionKey:
    return (
        ActionKeyBuilder("ptx", workspace_root=root)
        .add_file("kernel", "src/kernels.rs", source)
        .add_digest("rustg-core", CORE)
        .add_str("rustc", "rustc 1.97.0-nightly (abcdef 2026-04-01)")
        .add_str("arch", arch)
        .add_strs("flags", ["-C", "opt-level=3"])
        .finish()
    )


def test_golden_key() -> None:
    """The encoding is a format shared through Redis by every machine: changing it (on
    purpose) must bump KEY_DOMAIN, and this value with it."""
    key = ActionKeyBuilder("ptx").add_str("arch", "sm_80").add_int("opt", 3).finish()
    assert key.hex == "3efd2cc7c64473cae7259df2f90e68b2654349b769d8cd5728982f0dd7eb7ff8"
    encoding = ActionKeyBuilder("ptx").add_str("arch", "sm_80").add_int("opt", 3).encoding()
    assert encoding == (
        b"rustg-action-key/1\0"
        + (3).to_bytes(8, "big") + b"ptx"
        + (4).to_bytes(8, "big") + b"arch" + b"s" + (5).to_bytes(8, "big") + b"sm_80"
        + (3).to_bytes(8, "big") + b"opt" + b"i" + (1).to_bytes(8, "big") + b"3"
    )  # fmt: skip
    assert key.digest == blake3.blake3(encoding).digest()


def test_field_order_does_not_matter_but_values_do() -> None:
    a = ActionKeyBuilder("ptx").add_str("arch", "sm_80").add_str("rustc", "1.97").finish()
    b = ActionKeyBuilder("ptx").add_str("rustc", "1.97").add_str("arch", "sm_80").finish()
    c = ActionKeyBuilder("ptx").add_str("rustc", "1.97").add_str("arch", "sm_90").finish()
    assert a == b
    assert a != c


def test_length_prefixes_and_tags_separate_fields() -> None:
    def one(**fields: str) -> bytes:
        builder = ActionKeyBuilder("ptx")
        for name, value in fields.items():
            builder.add_str(name, value)
        return builder.finish().digest

    assert one(a="bc", d="") != one(a="b", d="c")
    assert one(ab="c") != one(a="bc")
    # The same bytes given as a string, as bytes, as a digest, or as a list differ.
    raw = bytes(range(32))
    as_bytes = ActionKeyBuilder("ptx").add_bytes("x", raw).finish()
    as_digest = ActionKeyBuilder("ptx").add_digest("x", raw).finish()
    assert as_bytes != as_digest
    listed = ActionKeyBuilder("ptx").add_strs("flags", ["-C", "opt-level=3"]).finish()
    joined = ActionKeyBuilder("ptx").add_strs("flags", ["-C opt-level=3"]).finish()
    assert listed != joined
    # The kind separates actions with equal fields.
    assert ActionKeyBuilder("ptx").finish() != ActionKeyBuilder("cubin").finish()


def test_two_checkouts_share_keys(tmp_path: Path) -> None:
    source = b"#[rustg::kernel] pub fn saxpy() {}"
    first = kernel_key(tmp_path / "alice" / "proj", source)
    second = kernel_key(tmp_path / "ci" / "build" / "proj", source)
    assert first == second
    assert kernel_key(tmp_path / "x", source, arch="sm_90") != first
    assert kernel_key(tmp_path / "x", source + b"\n") != first


def test_absolute_paths_are_refused_or_made_relative(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    with pytest.raises(CacheError, match="absolute path"):
        ActionKeyBuilder("ptx").add_path("kernel", "/home/me/proj/src/kernels.rs")
    with pytest.raises(CacheError, match="outside the workspace"):
        ActionKeyBuilder("ptx", workspace_root=root).add_path("k", tmp_path / "other.rs")
    with pytest.raises(CacheError, match="leaves the workspace"):
        workspace_relative("src/../../etc/passwd")
    relative = ActionKeyBuilder("ptx").add_path("kernel", "src/kernels.rs").finish()
    absolute = (
        ActionKeyBuilder("ptx", workspace_root=root)
        .add_path("kernel", root / "src" / "kernels.rs")
        .finish()
    )
    messy = ActionKeyBuilder("ptx").add_path("kernel", "./src/gpu/../kernels.rs").finish()
    assert relative == absolute == messy
    assert workspace_relative(root, root) == "."


def test_workspace_root_leaking_into_a_value_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    builder = ActionKeyBuilder("ptx", workspace_root=root)
    with pytest.raises(CacheError, match="absolute path"):
        builder.add_strs("flags", ["-C", f"--remap-path-prefix={root}=."])
    with pytest.raises(CacheError, match="absolute path"):
        builder.add_bytes("generated", f'#[path = "{root}/src/x.rs"]'.encode())
    builder.add_str("flags-ok", "--remap-path-prefix=.=.")  # unrelated values pass


def test_misuse_is_reported() -> None:
    builder = ActionKeyBuilder("ptx").add_str("arch", "sm_80")
    with pytest.raises(CacheError, match="given twice"):
        builder.add_str("arch", "sm_90")
    with pytest.raises(CacheError, match="digest is 32 bytes"):
        builder.add_digest("core", b"short")
    with pytest.raises(CacheError, match="needs a kind"):
        ActionKeyBuilder("")
    with pytest.raises(CacheError, match="32 bytes"):
        ActionKey(b"\0" * 16)
    key = builder.finish()
    assert ActionKey.from_hex(key.hex) == ActionKey(key.digest)
    assert str(key) == f"ptx:{key.hex[:16]}"
