"""rustg.daemon.systemd against the real things: datagram sockets, systemd-escape, systemd-analyze,
and (where the machine allows) a private systemd user manager running the unit for real.

The systemd tools are optional: tests that need one skip, naming it, when it is missing. Every
expected escape in ``ESCAPES`` was produced by systemd-escape 252, so the table checks the Python
port even where the binary is absent.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import random
import shutil
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from rustg.daemon import systemd as sd
from rustg.daemon.errors import DaemonError

SYSTEMD_ESCAPE = shutil.which("systemd-escape")
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_escape = pytest.mark.skipif(SYSTEMD_ESCAPE is None, reason="systemd-escape not installed")
needs_analyze = pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze not installed")

# --------------------------------------------------------------------------------------------
# notify


@pytest.fixture
def short_dir() -> Iterator[Path]:
    # AF_UNIX paths are limited to 107 bytes; pytest's tmp_path can be longer than that.
    with tempfile.TemporaryDirectory(prefix="rg-sd-", dir="/tmp") as name:
        yield Path(name)


@pytest.fixture
def listener(short_dir: Path) -> Iterator[tuple[socket.socket, str]]:
    """A datagram socket like systemd's notify socket (SO_PASSCRED on), and its address."""
    path = short_dir / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(os.fspath(path))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        sock.settimeout(5)
        yield sock, os.fspath(path)


def receive(sock: socket.socket) -> tuple[str, int]:
    """One datagram's text and the sender pid the kernel vouches for (SCM_CREDENTIALS)."""
    data, ancillary, _flags, _addr = sock.recvmsg(4096, socket.CMSG_SPACE(12))
    pids = [
        struct.unpack("3i", payload[:12])[0]
        for level, kind, payload in ancillary
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS
    ]
    assert len(pids) == 1
    return data.decode("utf-8"), pids[0]


def test_notify_without_notify_socket_does_nothing() -> None:
    assert sd.notify("READY=1", environ={}) is False
    assert sd.notify("READY=1", environ={"NOTIFY_SOCKET": ""}) is False
    assert sd.notify_ready(environ={"PATH": "/bin"}) is False


def test_notify_reads_the_process_environment(
    listener: tuple[socket.socket, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sock, address = listener
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    assert sd.notify_status("compiling") is True
    assert receive(sock) == ("STATUS=compiling", os.getpid())
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert sd.notify_status("compiling") is False


def test_notify_sends_each_message_to_a_filesystem_socket(
    listener: tuple[socket.socket, str],
) -> None:
    sock, address = listener
    env = {"NOTIFY_SOCKET": address}
    assert sd.notify_ready(environ=env) is True
    assert sd.notify_ready("watching /w\nsecond line", environ=env) is True
    assert sd.notify_status("généré\r\nok", environ=env) is True
    assert sd.notify_extend_timeout(1.5, environ=env) is True
    assert sd.notify_stopping(environ=env) is True
    assert sd.notify_stopping("bye", environ=env) is True
    assert sd.notify("WATCHDOG=1\nMAINPID=1", environ=env) is True
    received = [receive(sock) for _ in range(7)]
    # The kernel attached our pid: that is what NotifyAccess=main checks against MainPID.
    assert {pid for _, pid in received} == {os.getpid()}
    assert [text for text, _ in received] == [
        "READY=1",
        "READY=1\nSTATUS=watching /w second line",
        "STATUS=généré ok",
        "EXTEND_TIMEOUT_USEC=1500000",
        "STOPPING=1",
        "STOPPING=1\nSTATUS=bye",
        "WATCHDOG=1\nMAINPID=1",
    ]


@pytest.mark.skipif(sys.platform != "linux", reason="abstract sockets are Linux-only")
def test_notify_sends_to_an_abstract_socket() -> None:
    name = f"rustg-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name.encode())
        sock.settimeout(5)
        assert sd.notify_ready("up", environ={"NOTIFY_SOCKET": "@" + name}) is True
        assert sock.recv(4096) == b"READY=1\nSTATUS=up"


def test_notify_failure_is_logged_not_raised(
    short_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = {"NOTIFY_SOCKET": os.fspath(short_dir / "nobody-listens")}
    with caplog.at_level(logging.WARNING, logger="rustg.daemon.systemd"):
        assert sd.notify_ready(environ=env) is False
    [record] = caplog.records
    assert "nobody-listens" in record.getMessage()
    with pytest.raises(sd.NotifyError) as info:
        sd.notify("READY=1", environ=env, check=True)
    assert isinstance(info.value.__cause__, OSError)
    assert isinstance(info.value, DaemonError)


@pytest.mark.parametrize("address", ["vsock:2:1234", "relative/notify"])
def test_notify_refuses_addresses_sd_notify_would_refuse(address: str) -> None:
    env = {"NOTIFY_SOCKET": address}
    assert sd.notify("READY=1", environ=env) is False
    with pytest.raises(sd.NotifyError, match="unsupported NOTIFY_SOCKET"):
        sd.notify("READY=1", environ=env, check=True)


def test_notify_extend_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError):
        sd.notify_extend_timeout(0, environ={})


# --------------------------------------------------------------------------------------------
# escaping

# (input path, what `systemd-escape --path` 252 printed for it)
ESCAPES = [
    ("/home/user/my ws", "home-user-my\\x20ws"),
    ("/a-b/c", "a\\x2db-c"),
    ("/ünï/cødé", "\\xc3\\xbcn\\xc3\\xaf-c\\xc3\\xb8d\\xc3\\xa9"),
    ("/a/b/", "a-b"),
    ("/", "-"),
    ("", "-"),
    ("//a//b", "a-b"),
    ("/a/./b", "a-b"),
    ("/a/b/.", "a-b"),
    ("/./a", "a"),
    ("/.dot/x", "\\x2edot-x"),
    ("/a/.b", "a-.b"),
    ("/...", "\\x2e.."),
    ("/a/..b", "a-..b"),
    ("/a\\b", "a\\x5cb"),
    ("/a:b_c.d@e", "a:b_c.d\\x40e"),
    ("/x%y", "x\\x25y"),
    ("/tab\tx", "tab\\x09x"),
    ("/nl\nx", "nl\\x0ax"),
    ("a/b", "a-b"),
    ("./a", "a"),
    ("a//", "a"),
]
# Refused by systemd-escape --path (exit status 1).
BAD_PATHS = ["/a/../b", "/..", "/a/b/..", "../a", "a/..", ".", "./", "/" + "a" * 256]


@pytest.mark.parametrize(("path", "escaped"), ESCAPES)
def test_escape_path_matches_recorded_systemd_escape(path: str, escaped: str) -> None:
    assert sd.escape_path(path) == escaped


@pytest.mark.parametrize("path", BAD_PATHS)
def test_escape_path_refuses_what_systemd_refuses(path: str) -> None:
    with pytest.raises(sd.UnitNameError):
        sd.escape_path(path)


def test_escape_path_refuses_nul() -> None:
    with pytest.raises(sd.UnitNameError):
        sd.escape_path("/a\0b")


def systemd_escape(*args: str | bytes) -> subprocess.CompletedProcess[bytes]:
    assert SYSTEMD_ESCAPE is not None
    return subprocess.run([SYSTEMD_ESCAPE, *args], capture_output=True, check=False, timeout=30)


@needs_escape
def test_recorded_table_still_matches_the_installed_systemd_escape() -> None:
    paths = [path for path, _ in ESCAPES if path]
    proc = systemd_escape("--path", "--", *paths)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode("ascii").rstrip("\n").split(" ") == [
        escaped for path, escaped in ESCAPES if path
    ]
    for path in BAD_PATHS:
        assert systemd_escape("--path", "--", path).returncode != 0, path


def random_paths(rng: random.Random, count: int) -> list[bytes]:
    """Paths full of what escaping must get right, as bytes (not all of them UTF-8)."""
    pieces = [
        b"a", b"Z", b"0", b"-", b"_", b".", b":", b"\\", b" ", b"@", b"%", b"+", b"~", b"'",
        b'"', b"\t", b"\n", b"\xc3\xbc", b"\xe2\x82\xac", b"\xff", b"x",
    ]  # fmt: skip
    paths = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 5)):
            kind = rng.random()
            if kind < 0.1:
                parts.append(b"")  # a doubled slash
            elif kind < 0.2:
                parts.append(b".")
            else:
                part = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
                parts.append(b"..." if part == b".." else part)
        if all(part in (b"", b".") for part in parts):
            parts.append(b"x")  # "." alone is refused; BAD_PATHS covers that
        path = b"/".join(parts)
        if rng.random() < 0.8:
            path = b"/" + path
        if rng.random() < 0.2:
            path += b"/"
        paths.append(path)
    return paths


@needs_escape
def test_escape_path_matches_systemd_escape_on_random_paths() -> None:
    paths = random_paths(random.Random(20240611), 400)
    proc = systemd_escape("--path", "--", *paths)
    assert proc.returncode == 0, proc.stderr
    # Escaped names never contain a space, so systemd-escape's space-joined output splits cleanly.
    expected = proc.stdout.decode("ascii").rstrip("\n").split(" ")
    assert len(expected) == len(paths)
    for path, want in zip(paths, expected, strict=True):
        assert sd.escape_path(os.fsdecode(path)) == want, path


@needs_escape
@pytest.mark.parametrize(
    "escaped",
    ["-", "home-x", "a\\x2db", "\\x2edot", "a\\x2Fb", "a.-b", "a\\x2e\\x2e", "\\xff\\xc3\\xbc",
     "a--b", "a-", "-a", "a\\xzz", "a\\x", "a-..-b", "a-.-b"],
)  # fmt: skip
def test_unescape_path_matches_systemd_escape(escaped: str) -> None:
    proc = systemd_escape("--unescape", "--path", "--", escaped)
    if proc.returncode != 0:
        with pytest.raises(sd.UnitNameError):
            sd.unescape_path(escaped)
    else:
        assert os.fsencode(sd.unescape_path(escaped)) == proc.stdout.rstrip(b"\n")


def test_unescape_path_refuses_nul() -> None:
    # systemd-escape --unescape prints "/a" for "a\x00b": its C string ends at the NUL. A path
    # that silently loses its tail is worse than an error.
    with pytest.raises(sd.UnitNameError, match="NUL"):
        sd.unescape_path("a\\x00b")


def test_unescape_inverts_escape_for_absolute_paths() -> None:
    for path in random_paths(random.Random(7), 300):
        if not path.startswith(b"/"):
            continue
        normal = b"/" + b"/".join(p for p in path.split(b"/") if p not in (b"", b"."))
        text = os.fsdecode(path)
        assert os.fsencode(sd.unescape_path(sd.escape_path(text))) == normal


def test_service_name() -> None:
    assert sd.service_name(Path("/home/me/my ws")) == "rustgd@home-me-my\\x20ws.service"
    assert sd.service_name("/") == "rustgd@-.service"
    with pytest.raises(sd.UnitNameError, match="not absolute"):
        sd.service_name("home/me")


@pytest.mark.parametrize("length", [240, 241])
def test_service_name_length_limit_is_systemds(length: int) -> None:
    # "rustgd@" + 240 characters + ".service" is 255, the longest unit name systemd accepts.
    path = "/" + "a" * length
    if length <= 240:
        assert len(sd.service_name(path)) == 7 + length + 8
    else:
        with pytest.raises(sd.UnitNameError, match="over systemd's limit of 255"):
            sd.service_name(path)
    if SYSTEMD_ESCAPE is not None:
        proc = systemd_escape("--template=rustgd@.service", "--path", path)
        assert (proc.returncode == 0) == (length <= 240)


# --------------------------------------------------------------------------------------------
# the unit file


def make_executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_template_has_its_placeholders() -> None:
    text = sd.UNIT_TEMPLATE_PATH.read_text()
    assert text.count("@RUSTGD@") == 1
    assert text.count("\n@ENVIRONMENT@\n") == 1


def test_render_unit_fills_exec_start_and_environment() -> None:
    text = sd.render_unit(
        Path("/opt/rust g/bin/rustgd"),
        environment={"PATH": '/a b:/c"d:/e\\f:/50%', "CARGO_HOME": "/h/.cargo"},
    )
    lines = text.splitlines()
    assert 'ExecStart="/opt/rust g/bin/rustgd" run --workspace %f' in lines
    env_lines = [line for line in lines if line.startswith("Environment=")]
    assert env_lines == [
        'Environment="CARGO_HOME=/h/.cargo"',
        'Environment="PATH=/a b:/c\\"d:/e\\\\f:/50%%"',
        "Environment=PYTHONUNBUFFERED=1",
    ]
    assert "@" not in text.replace("rustgd@", "").replace("%f", "")
    for setting in ("Type=notify", "NotifyAccess=main", "Restart=on-failure", "KillMode=mixed"):
        assert setting in lines
    assert "WantedBy=default.target" in lines


def test_render_unit_without_environment_drops_the_placeholder_line() -> None:
    text = sd.render_unit(Path("/usr/bin/rustgd"))
    assert "ExecStart=/usr/bin/rustgd run --workspace %f\n" in text
    assert "@ENVIRONMENT@" not in text
    assert "\n\n\n" not in text


def test_render_unit_escapes_specifiers_in_the_rustgd_path() -> None:
    assert "ExecStart=/opt/100%%/rustgd run" in sd.render_unit(Path("/opt/100%/rustgd"))


@pytest.mark.parametrize(
    "path", ["relative/rustgd", "/opt/it's/rustgd", '/opt/"q"/rustgd', "/opt/b\\s/rustgd",
             "/opt/n\nl/rustgd", "/opt/../rustgd"],
)  # fmt: skip
def test_render_unit_refuses_paths_systemd_cannot_execute(path: str) -> None:
    with pytest.raises(sd.InstallError):
        sd.render_unit(Path(path))


def test_render_unit_refuses_control_characters_in_the_environment() -> None:
    with pytest.raises(sd.InstallError):
        sd.render_unit(Path("/usr/bin/rustgd"), environment={"PATH": "/a\n/b"})


def test_render_unit_template_errors(tmp_path: Path) -> None:
    with pytest.raises(sd.InstallError, match="cannot read"):
        sd.render_unit(Path("/usr/bin/rustgd"), template=tmp_path / "missing.service")
    twice = tmp_path / "twice.service"
    twice.write_text("ExecStart=@RUSTGD@ @RUSTGD@\n@ENVIRONMENT@\n")
    with pytest.raises(sd.InstallError, match="@RUSTGD@ once"):
        sd.render_unit(Path("/usr/bin/rustgd"), template=twice)


def test_service_environment_keeps_what_picks_the_toolchain() -> None:
    env = {
        "PATH": "/home/me/.cargo/bin:.:bin:/usr/bin:/home/me/.cargo/bin:",
        "CARGO_HOME": "/home/me/.cargo",
        "RUSTUP_HOME": "relative",
        "RUSTFLAGS": "-Dwarnings",
        "HOME": "/home/me",
    }
    assert sd.service_environment(env) == {
        "PATH": "/home/me/.cargo/bin:/usr/bin",
        "CARGO_HOME": "/home/me/.cargo",
    }
    assert sd.service_environment({}) == {}


def rustgd_for_verify() -> Path:
    with contextlib.suppress(sd.InstallError):
        return sd.default_rustgd_path()
    return Path(sys.executable)


def analyze_verify(unit_dir: Path, unit: str, runtime_dir: Path) -> tuple[int, str]:
    """``systemd-analyze --user verify`` of ``unit_dir/unit``: exit status and all it printed.

    Verifying an instance file name loads the template beside it, as the user manager would.
    --user resolves %E and %h as a user manager does and needs an existing XDG_RUNTIME_DIR.
    """
    assert SYSTEMD_ANALYZE is not None
    env = {**os.environ, "XDG_RUNTIME_DIR": os.fspath(runtime_dir), "SYSTEMD_LOG_COLOR": "0"}
    proc = subprocess.run(
        [SYSTEMD_ANALYZE, "--user", "verify", "--man=no", os.fspath(unit_dir / unit)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    return proc.returncode, (proc.stdout + proc.stderr).strip()


@pytest.fixture
def runtime_dir(tmp_path: Path) -> Path:
    path = tmp_path / "runtime"
    path.mkdir(mode=0o700)
    return path


@needs_analyze
@pytest.mark.parametrize("rustgd", ["installed", "spaced"])
def test_rendered_unit_passes_systemd_analyze_verify(
    tmp_path: Path, runtime_dir: Path, rustgd: str
) -> None:
    exe = rustgd_for_verify()
    if rustgd == "spaced":
        exe = make_executable(tmp_path / "with space 100%" / "rustgd")
    unit_dir = tmp_path / "units"
    unit_dir.mkdir()
    (unit_dir / sd.SERVICE_TEMPLATE_NAME).write_text(
        sd.render_unit(exe, environment=sd.service_environment())
    )
    workspace = tmp_path / "my ws-ü"
    instance = sd.service_name(workspace)
    rc, output = analyze_verify(unit_dir, instance, runtime_dir)
    # Unknown keys and bad values are warnings with exit status 0: demand silence too.
    assert (rc, output) == (0, "")


@needs_analyze
def test_systemd_analyze_verify_would_catch_a_broken_unit(
    tmp_path: Path, runtime_dir: Path
) -> None:
    # The check above is only worth something if verify fails on a unit systemd cannot run.
    unit_dir = tmp_path / "units"
    unit_dir.mkdir()
    text = sd.render_unit(tmp_path / "no-such-rustgd").replace(
        "KillMode=mixed", "KillMode=mixed\nKillModee=mixed"
    )
    (unit_dir / sd.SERVICE_TEMPLATE_NAME).write_text(text)
    rc, output = analyze_verify(unit_dir, "rustgd@tmp-ws.service", runtime_dir)
    assert rc != 0
    assert "no-such-rustgd" in output
    assert "Unknown key" in output


def test_default_unit_dir() -> None:
    assert sd.default_unit_dir({"XDG_CONFIG_HOME": "/cfg", "HOME": "/h"}) == Path(
        "/cfg/systemd/user"
    )
    # A relative XDG_CONFIG_HOME is invalid per the XDG spec and ignored.
    assert sd.default_unit_dir({"XDG_CONFIG_HOME": "cfg", "HOME": "/h"}) == Path(
        "/h/.config/systemd/user"
    )
    assert sd.default_unit_dir({"HOME": "/h"}) == Path("/h/.config/systemd/user")


def test_default_rustgd_path_is_an_absolute_executable() -> None:
    try:
        path = sd.default_rustgd_path()
    except sd.InstallError:
        pytest.skip("no rustgd console script installed")
    assert path.is_absolute()
    assert os.access(path, os.X_OK)
    assert path.name == "rustgd"


# --------------------------------------------------------------------------------------------
# install_service with a fake systemctl


@dataclass
class FakeSystemctl:
    """Stands in for ``subprocess.run``: records argv and kwargs, answers per subcommand."""

    answers: dict[str, subprocess.CompletedProcess[str] | BaseException] = field(
        default_factory=dict
    )
    calls: list[tuple[list[str], dict[str, Any]]] = field(default_factory=list)

    def __call__(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append((argv, kwargs))
        answer = self.answers.get(argv[2], subprocess.CompletedProcess(argv, 0, "", ""))
        if isinstance(answer, BaseException):
            raise answer
        return answer

    @property
    def argvs(self) -> list[list[str]]:
        return [argv for argv, _ in self.calls]


@dataclass
class Setup:
    workspace: Path
    rustgd: Path
    unit_dir: Path
    environ: dict[str, str]

    def install(self, run: FakeSystemctl | Any, **kwargs: Any) -> sd.InstallResult:
        return sd.install_service(
            self.workspace,
            rustgd_path=self.rustgd,
            unit_dir=self.unit_dir,
            run=run,
            environ=self.environ,
            **kwargs,
        )


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    workspace = tmp_path / "my ws-1"
    workspace.mkdir()
    return Setup(
        workspace=workspace,
        rustgd=make_executable(tmp_path / "venv" / "bin" / "rustgd"),
        unit_dir=tmp_path / "config" / "systemd" / "user",
        environ={"PATH": "/home/me/.cargo/bin:/usr/bin", "HOME": os.fspath(tmp_path)},
    )


def instance_of(workspace: Path) -> str:
    return "rustgd@" + sd.escape_path(workspace.resolve()) + ".service"


def test_install_writes_reloads_and_enables(setup: Setup) -> None:
    fake = FakeSystemctl()
    result = setup.install(fake)
    instance = instance_of(setup.workspace)
    assert result.outcome is sd.InstallOutcome.ENABLED
    assert result.enabled is True
    assert result.instance == instance
    assert result.unit_path == setup.unit_dir / "rustgd@.service"
    assert result.pending == ()
    assert result.changed is True
    assert result.unit_path.read_text() == sd.render_unit(
        setup.rustgd, environment={"PATH": "/home/me/.cargo/bin:/usr/bin"}
    )
    assert stat.S_IMODE(result.unit_path.stat().st_mode) == 0o644
    assert fake.argvs == [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "--now", instance],
    ]
    for _, kwargs in fake.calls:
        assert kwargs["check"] is False
        assert kwargs["capture_output"] is True
        assert kwargs["stdin"] == subprocess.DEVNULL
        assert kwargs["timeout"] > 0
    assert "journalctl --user -u 'rustgd@" in result.message
    assert "old command line" not in result.message  # nothing was running an older unit
    # Nothing but the unit is left in the directory (no temporary files).
    assert os.listdir(setup.unit_dir) == ["rustgd@.service"]


def test_install_again_reports_an_unchanged_file(setup: Setup) -> None:
    setup.install(FakeSystemctl())
    again = setup.install(FakeSystemctl())
    assert again.outcome is sd.InstallOutcome.ENABLED
    assert again.changed is False
    assert "old command line" not in again.message
    assert os.listdir(setup.unit_dir) == ["rustgd@.service"]


def test_install_replaces_a_different_unit(setup: Setup) -> None:
    setup.unit_dir.mkdir(parents=True)
    (setup.unit_dir / "rustgd@.service").write_text("[Service]\nExecStart=/old/rustgd run\n")
    result = setup.install(FakeSystemctl())
    assert result.changed is True
    assert "ExecStart=/old" not in result.unit_path.read_text()
    assert "systemctl --user restart 'rustgd@" in result.message


def test_install_uses_xdg_config_home_by_default(setup: Setup, tmp_path: Path) -> None:
    config = tmp_path / "xdg"
    result = sd.install_service(
        setup.workspace,
        rustgd_path=setup.rustgd,
        run=FakeSystemctl(),
        environ={"XDG_CONFIG_HOME": os.fspath(config), "HOME": "/nonexistent"},
    )
    assert result.unit_path == config / "systemd" / "user" / "rustgd@.service"
    assert result.unit_path.is_file()


def test_install_without_enable_runs_nothing(setup: Setup) -> None:
    fake = FakeSystemctl()
    result = setup.install(fake, enable=False)
    instance = instance_of(setup.workspace)
    assert fake.calls == []
    assert result.outcome is sd.InstallOutcome.WRITTEN
    assert result.enabled is False
    assert result.unit_path.is_file()
    assert result.pending == (
        ("systemctl", "--user", "daemon-reload"),
        ("systemctl", "--user", "enable", "--now", instance),
    )
    # The backslashes of the instance name survive a copy-paste into a shell only when quoted.
    assert (
        f"systemctl --user daemon-reload && systemctl --user enable --now '{instance}'"
        in result.message
    )


@pytest.mark.parametrize(
    "failure",
    [
        subprocess.CompletedProcess([], 1, "", "Failed to connect to bus: No medium found\n"),
        FileNotFoundError(2, "No such file or directory", "systemctl"),
        subprocess.TimeoutExpired(["systemctl"], 30),
    ],
    ids=["no-user-bus", "no-systemctl", "hangs"],
)
def test_install_without_a_user_manager_says_so(
    setup: Setup, failure: subprocess.CompletedProcess[str] | BaseException
) -> None:
    fake = FakeSystemctl({"daemon-reload": failure})
    result = setup.install(fake)
    instance = instance_of(setup.workspace)
    assert result.outcome is sd.InstallOutcome.MANAGER_UNAVAILABLE
    assert result.enabled is False
    assert fake.argvs == [["systemctl", "--user", "daemon-reload"]]  # enable never tried
    assert result.unit_path.is_file()
    assert "NOT enabled" in result.message
    assert f"systemctl --user enable --now '{instance}'" in result.message
    assert result.pending[-1] == ("systemctl", "--user", "enable", "--now", instance)


def test_install_reports_the_reason_systemctl_gave(setup: Setup) -> None:
    fake = FakeSystemctl(
        {"daemon-reload": subprocess.CompletedProcess([], 1, "", "Failed to connect to bus\n")}
    )
    assert "Failed to connect to bus (exit status 1)" in setup.install(fake).message


def test_install_reports_a_failed_start(setup: Setup) -> None:
    stderr = "Job for rustgd@x.service failed because the control process exited with error code.\n"
    fake = FakeSystemctl({"enable": subprocess.CompletedProcess([], 1, "", stderr)})
    result = setup.install(fake)
    instance = instance_of(setup.workspace)
    assert result.outcome is sd.InstallOutcome.FAILED
    assert result.enabled is False
    assert "failed because the control process exited" in result.message
    assert f"systemctl --user status '{instance}'" in result.message
    assert f"journalctl --user -u '{instance}'" in result.message
    assert result.pending == (("systemctl", "--user", "enable", "--now", instance),)


def test_install_against_the_real_systemctl_without_a_manager(setup: Setup, tmp_path: Path) -> None:
    systemctl = shutil.which("systemctl")
    if systemctl is None:
        pytest.skip("systemctl not installed")
    # An empty runtime dir and no bus address: whatever machine this runs on, systemctl --user
    # reaches no manager (and so enables nothing on a developer's real session).
    empty = tmp_path / "empty-runtime"
    empty.mkdir(mode=0o700)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "XDG_RUNTIME_DIR": os.fspath(empty)}
    result = setup.install(functools.partial(subprocess.run, env=env))
    assert result.outcome is sd.InstallOutcome.MANAGER_UNAVAILABLE
    assert result.enabled is False
    assert "exit status 1" in result.message


def test_install_resolves_the_workspace(setup: Setup, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(setup.workspace)
    result = sd.install_service(
        link, rustgd_path=setup.rustgd, unit_dir=setup.unit_dir, run=FakeSystemctl()
    )
    assert result.instance == instance_of(setup.workspace)
    assert "link" not in result.instance


def test_install_refuses_what_cannot_work(setup: Setup, tmp_path: Path) -> None:
    fake = FakeSystemctl()
    with pytest.raises(sd.InstallError, match="does not exist"):
        sd.install_service(tmp_path / "gone", rustgd_path=setup.rustgd, run=fake)
    a_file = make_executable(tmp_path / "file")
    with pytest.raises(sd.InstallError, match="not a directory"):
        sd.install_service(a_file, rustgd_path=setup.rustgd, run=fake)
    not_executable = tmp_path / "rustgd.txt"
    not_executable.write_text("")
    with pytest.raises(sd.InstallError, match="not an executable"):
        sd.install_service(setup.workspace, rustgd_path=not_executable, run=fake)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the unit directory should be")
    with pytest.raises(sd.InstallError, match="cannot write") as info:
        sd.install_service(
            setup.workspace, rustgd_path=setup.rustgd, unit_dir=blocked / "user", run=fake
        )
    assert isinstance(info.value.__cause__, OSError)
    assert fake.calls == []


# --------------------------------------------------------------------------------------------
# a real systemd user manager, privately
#
# Inside new mount and pid namespaces, a tmpfs over /run/systemd with an empty system/ in it makes
# `systemd --user` believe the machine booted with systemd; XDG_RUNTIME_DIR and XDG_CONFIG_HOME in
# a temp dir keep the manager, its private socket and the unit file there. When the sandbox's
# first process exits, the kernel kills everything left in its pid namespace.

SYSTEMD_BINARY = next(
    (p for p in ("/usr/lib/systemd/systemd", "/lib/systemd/systemd") if os.access(p, os.X_OK)),
    None,
)

SANDBOX = textwrap.dedent(
    r"""
    import json, os, subprocess, sys, time
    from pathlib import Path

    base, scenario, systemd = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    out = base / "result.json"
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run/systemd"], check=True)
    os.mkdir("/run/systemd/system")
    os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
    for key in ("HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_STATE_HOME",
                "XDG_CACHE_HOME"):
        path = base / key.lower()
        path.mkdir(mode=0o700)
        os.environ[key] = str(path)
    manager = subprocess.Popen([systemd, "--user"], stdin=subprocess.DEVNULL,
                               stdout=open(base / "manager.log", "wb"), stderr=subprocess.STDOUT)

    def systemctl(*args):
        return subprocess.run(["systemctl", "--user", *args], capture_output=True, text=True,
                              timeout=60)

    def show(unit, *props):
        lines = systemctl("show", unit, "-p", ",".join(props)).stdout.splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)

    state = ""
    for _ in range(200):
        state = systemctl("is-system-running").stdout.strip()
        if state in ("running", "degraded"):
            break
        time.sleep(0.05)
    else:
        out.write_text(json.dumps({"skip": f"user manager did not start ({state!r})"}))
        sys.exit(0)

    from rustg.daemon.systemd import install_service

    result = {}
    workspace = base / "my ws-ü"
    try:
        if scenario == "fake":
            workspace.mkdir()
            record = base / "record.json"
            fake = base / "bin" / "rustgd"
            fake.parent.mkdir()
            # Like rustgd run: ready after a while, then waits for SIGTERM and says STOPPING=1.
            fake.write_text(f'''#!{sys.executable}
    import json, os, signal, sys, time
    from rustg.daemon.systemd import notify_ready, notify_stopping
    signal.pthread_sigmask(signal.SIG_BLOCK, {{signal.SIGTERM}})
    rec = {{"argv": sys.argv[1:], "cwd": os.getcwd(), "pid": os.getpid(),
           "path": os.environ.get("PATH"), "extra": os.environ.get("RUSTG_EXTRA")}}
    time.sleep(0.3)
    rec["ready_at"] = time.time()
    rec["sent"] = notify_ready("watching " + sys.argv[-1])
    open({str(record)!r}, "w").write(json.dumps(rec))
    signal.sigwait({{signal.SIGTERM}})
    rec["stopping"] = notify_stopping()
    open({str(record)!r}, "w").write(json.dumps(rec))
    ''')
            fake.chmod(0o755)
            env_file = base / "xdg_config_home" / "rustg" / "environment"
            env_file.parent.mkdir()
            env_file.write_text("RUSTG_EXTRA=from the environment file\n")
            os.environ["PATH"] = "/weird path/50%/q\"uote/b\\slash:" + os.environ["PATH"]
            install = install_service(workspace, rustgd_path=fake)
            result["returned_at"] = time.time()
            result["outcome"] = install.outcome.value
            result["unit"] = show(install.instance, "Type", "NotifyAccess", "ActiveState",
                                  "SubState", "StatusText", "MainPID", "UnitFileState")
            result["record_ready"] = json.loads(record.read_text())
            result["stop"] = systemctl("stop", install.instance).returncode
            result["record_stopped"] = json.loads(record.read_text())
            result["after_stop"] = show(install.instance, "ActiveState", "Result")
        elif scenario == "real":
            import shutil
            shutil.copytree(sys.argv[4], workspace, ignore=shutil.ignore_patterns("target"))
            install = install_service(workspace, rustgd_path=Path(sys.argv[5]))
            result["outcome"] = install.outcome.value
            result["message"] = install.message
            result["status_text"] = systemctl("status", install.instance).stdout
            result["unit"] = show(install.instance, "ActiveState", "SubState", "StatusText")
            status = subprocess.run([sys.argv[5], "status", "--workspace", str(workspace)],
                                    capture_output=True, text=True, timeout=60)
            result["status"] = [status.returncode, status.stdout + status.stderr]
            result["stop"] = systemctl("stop", install.instance).returncode
            result["after_stop"] = show(install.instance, "ActiveState", "Result",
                                        "ExecMainStatus")
    finally:
        result["manager_log"] = (base / "manager.log").read_text(errors="replace")[-3000:]
        out.write_text(json.dumps(result))
        systemctl("exit")
        try:
            manager.wait(10)
        except subprocess.TimeoutExpired:
            manager.kill()
    """
)


def run_in_sandbox(short_dir: Path, *args: str) -> dict[str, Any]:
    """Run SANDBOX's scenario ``args[0]``; its JSON result. ``short_dir`` because rustgd's ipc
    socket paths live under XDG_RUNTIME_DIR and must fit in 107 bytes."""
    if os.geteuid() != 0:
        pytest.skip("a private systemd user manager needs root (mount namespaces)")
    if SYSTEMD_BINARY is None or shutil.which("systemctl") is None or not shutil.which("unshare"):
        pytest.skip("systemd, systemctl or unshare not installed")
    if os.path.exists("/run/systemd/system"):
        pytest.skip("this host runs systemd; a sandboxed manager would share its cgroup tree")
    if not os.path.isdir("/run/systemd"):
        pytest.skip("no /run/systemd to mount over")
    namespaces = ["unshare", "--mount", "--pid", "--fork", "--mount-proc"]
    probe = subprocess.run([*namespaces, "true"], capture_output=True, check=False, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"cannot create namespaces here: {probe.stderr.decode(errors='replace')}")
    base = short_dir / "sandbox"
    base.mkdir()
    script = short_dir / "sandbox.py"
    script.write_text(SANDBOX)
    proc = subprocess.run(
        [*namespaces, sys.executable, os.fspath(script), os.fspath(base), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    result_file = base / "result.json"
    assert result_file.exists(), proc.stdout + proc.stderr
    result: dict[str, Any] = json.loads(result_file.read_text())
    if "skip" in result:
        pytest.skip(result["skip"])
    assert proc.returncode == 0, proc.stdout + proc.stderr + result.get("manager_log", "")
    return result


@pytest.mark.slow
def test_user_manager_runs_the_unit_and_waits_for_ready(short_dir: Path) -> None:
    result = run_in_sandbox(short_dir, "fake", SYSTEMD_BINARY or "")
    assert result["outcome"] == "enabled", result
    ready, unit = result["record_ready"], result["unit"]
    workspace = str(short_dir / "sandbox" / "my ws-ü")
    # %f restored the path, spaces and all, as one argument; WorkingDirectory=%f too.
    assert ready["argv"] == ["run", "--workspace", workspace]
    assert ready["cwd"] == workspace
    # Type=notify: `enable --now` returned only after READY=1 was sent.
    assert ready["sent"] is True
    assert result["returned_at"] >= ready["ready_at"]
    assert unit["Type"] == "notify"
    assert unit["NotifyAccess"] == "main"
    assert (unit["ActiveState"], unit["SubState"]) == ("active", "running")
    assert unit["StatusText"] == f"watching {workspace}"
    assert unit["MainPID"] == str(ready["pid"])
    assert unit["UnitFileState"] == "enabled"
    # The installing shell's PATH reached the service through the quoting; the environment file
    # was read.
    assert ready["path"].startswith('/weird path/50%/q"uote/b\\slash:')
    assert ready["extra"] == "from the environment file"
    # Stop: SIGTERM reached the daemon, which said STOPPING=1 and exited cleanly.
    assert result["stop"] == 0
    assert result["record_stopped"]["stopping"] is True
    assert result["after_stop"] == {"ActiveState": "inactive", "Result": "success"}


@pytest.mark.slow
def test_user_manager_runs_the_real_rustgd(short_dir: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    example = repo / "examples" / "hello-gpu"
    try:
        rustgd = sd.default_rustgd_path()
    except sd.InstallError:
        pytest.skip("no rustgd console script installed")
    if not (example / "Cargo.toml").is_file():
        pytest.skip("examples/hello-gpu is missing")
    result = run_in_sandbox(
        short_dir, "real", SYSTEMD_BINARY or "", os.fspath(example), os.fspath(rustgd)
    )
    assert result["outcome"] == "enabled", result["message"] + result["status_text"]
    assert (result["unit"]["ActiveState"], result["unit"]["SubState"]) == ("active", "running")
    assert result["unit"]["StatusText"].startswith("watching ")
    # READY=1 means serving: `rustgd status` (exit 0 only when running and healthy) at once.
    assert result["status"][0] == 0, result["status"][1]
    assert result["stop"] == 0
    assert result["after_stop"] == {
        "ActiveState": "inactive",
        "Result": "success",
        "ExecMainStatus": "0",
    }
