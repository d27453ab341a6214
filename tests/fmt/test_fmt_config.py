"""rustfmt.toml lookup and resolution (gpu/fmt/config.py), checked against real rustfmt."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from rustg.gpu.fmt.config import (
    FnParamsLayout,
    NewlineStyle,
    find_config_file,
    load_fmt_config,
)

NO_HOME: dict[str, str] = {}


def test_defaults_without_any_file(tmp_path: Path) -> None:
    source = tmp_path / "a.rs"
    source.write_text("fn main() {}\n")
    config = load_fmt_config(source, env=NO_HOME)
    assert (config.max_width, config.tab_spaces, config.edition) == (100, 4, "2015")
    assert config.native_allowed and config.path is None
    assert config.rustfmt_args() == ["--edition", "2015"]


def test_nearest_file_wins_and_dot_file_first(tmp_path: Path) -> None:
    (tmp_path / "rustfmt.toml").write_text("max_width = 80\n")
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    (tmp_path / "a" / "rustfmt.toml").write_text("max_width = 70\n")
    (tmp_path / "a" / ".rustfmt.toml").write_text("max_width = 60\n")
    assert find_config_file(inner, NO_HOME) == tmp_path / "a" / ".rustfmt.toml"
    config = load_fmt_config(inner / "x.rs", env=NO_HOME)
    assert config.max_width == 60


def test_home_fallback(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".config" / "rustfmt").mkdir(parents=True)
    (home / ".config" / "rustfmt" / "rustfmt.toml").write_text("hard_tabs = true\n")
    work = tmp_path / "work"
    work.mkdir()
    config = load_fmt_config(work / "x.rs", env={"HOME": str(home)})
    assert config.hard_tabs and config.indent_unit == "\t"


def test_supported_and_unsupported_options(tmp_path: Path) -> None:
    (tmp_path / "rustfmt.toml").write_text(
        'newline_style = "unix"\nfn_params_layout = "Vertical"\nedition = "2021"\n'
    )
    config = load_fmt_config(tmp_path / "x.rs", env=NO_HOME)
    assert config.native_allowed
    assert config.newline_style is NewlineStyle.UNIX
    assert config.fn_params_layout is FnParamsLayout.VERTICAL
    assert config.edition == "2021"
    (tmp_path / "rustfmt.toml").write_text('imports_granularity = "Crate"\nmax_width = "x"\n')
    config = load_fmt_config(tmp_path / "x.rs", env=NO_HOME)
    assert not config.native_allowed
    assert config.unsupported == ("imports_granularity", "max_width")


def test_edition_from_manifest(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "a"\nedition = "2021"\n')
    (tmp_path / "src").mkdir()
    assert load_fmt_config(tmp_path / "src" / "lib.rs", env=NO_HOME).edition == "2021"


def test_newline_auto_detects_first_line_ending() -> None:
    config = load_fmt_config(Path("/nonexistent/x.rs"), env=NO_HOME)
    assert config.newline_for(b"a\r\nb\n") == b"\r\n"
    assert config.newline_for(b"a\nb\r\n") == b"\n"


def test_digest_changes_with_options(tmp_path: Path) -> None:
    (tmp_path / "rustfmt.toml").write_text("max_width = 80\n")
    first = load_fmt_config(tmp_path / "x.rs", env=NO_HOME).digest()
    (tmp_path / "rustfmt.toml").write_text("max_width = 81\n")
    assert load_fmt_config(tmp_path / "x.rs", env=NO_HOME).digest() != first


@pytest.mark.slow
def test_rustfmt_agrees_with_resolved_args(tmp_path: Path) -> None:
    """The args we pass make rustfmt apply the config we resolved (max_width honoured)."""
    (tmp_path / "rustfmt.toml").write_text("max_width = 40\n")
    source = tmp_path / "x.rs"
    source.write_text("fn f() { let x = call_something(argument_one, argument_two); }\n")
    config = load_fmt_config(source, env=NO_HOME)
    out = subprocess.run(
        ["rustfmt", "--emit", "stdout", *config.rustfmt_args()],
        input=source.read_bytes(),
        capture_output=True,
        check=True,
        cwd="/",
    ).stdout
    assert max(len(line) for line in out.decode().splitlines()) <= 40


@pytest.mark.slow
@pytest.mark.parametrize(
    ("options", "native", "neutral"),
    [
        # unstable on a stable rustfmt: it warns and ignores them
        ("wrap_comments = true\nmax_width = 90\n", True, ("wrap_comments",)),
        (
            'imports_granularity = "Crate"\nignore = ["x.rs"]\n',
            True,
            ("ignore", "imports_granularity"),
        ),
        ("no_such_option = 3\n", True, ("no_such_option",)),  # unknown: rustfmt warns, ignores
        ("no_such_option = 3\nuse_try_shorthand = true\n", True, ("no_such_option",)),
        # the deprecated spelling of fn_params_layout, read as it (the printer models Tall only:
        # native_config_supported refuses Compressed item by item)
        ('fn_args_layout = "Tall"\n', True, ()),
        ('fn_args_layout = "Compressed"\n', True, ()),
        ('fn_args_layout = "Tall"\nfn_params_layout = "Tall"\n', False, ()),
        # stable options that change one construct: refused per item (native.py)
        ("use_field_init_shorthand = true\n", True, ()),
        ("use_field_init_shorthand = 1\n", False, ()),
        # stable options that change the output
        ("disable_all_formatting = true\n", False, ()),
    ],
)
def test_options_rustfmt_itself_ignores_leave_the_native_printer_on(
    tmp_path: Path, options: str, native: bool, neutral: tuple[str, ...]
) -> None:
    """Asked of the installed rustfmt (--print-config current), not assumed: a stable rustfmt
    ignores unstable options, a nightly one applies them (and the file goes to rustfmt)."""
    version = subprocess.run(
        ["rustfmt", "--version"], capture_output=True, text=True, check=True
    ).stdout
    if "nightly" in version:
        pytest.skip("expectations written for a stable rustfmt")
    (tmp_path / "rustfmt.toml").write_text(options)
    config = load_fmt_config(tmp_path / "x.rs", env=NO_HOME)
    assert (config.native_allowed, config.neutral) == (native, neutral)
