"""systemd integration: readiness notification, unit instance names, and the user unit.

Three pieces, each usable alone:

* ``notify`` and its helpers speak the sd_notify(3) datagram protocol to ``$NOTIFY_SOCKET`` over a
  plain ``AF_UNIX``/``SOCK_DGRAM`` socket (no libsystemd). Without ``$NOTIFY_SOCKET`` they do
  nothing and return ``False``, so the daemon calls them unconditionally.
* ``escape_path``/``unescape_path`` reimplement systemd's ``unit_name_path_escape`` and
  ``unit_name_path_unescape`` (src/basic/unit-name.c), i.e. ``systemd-escape --path``; the
  workspace's escaped path is the instance of the templated unit ``rustgd@.service``.
* ``render_unit`` fills the template ``systemd/rustgd@.service`` and ``install_service`` writes it
  to the user's unit directory and enables the workspace's instance through ``systemctl --user``.

Exceptions raised here, under ``rustg.daemon.errors.SystemdError`` (itself a ``DaemonError``)::

    SystemdError            talking to systemd failed (defined in daemon/errors.py)
    ├── NotifyError         a notification could not be sent (raised only with ``check=True``)
    ├── UnitNameError       a path that cannot be a unit instance (not normalised, name too long)
    └── InstallError        the unit could not be rendered or written (unusable rustgd path,
                            missing template or workspace, unwritable unit directory)

``OSError`` from sockets and files is translated into these at the boundary. A ``systemctl`` that
cannot reach a user manager is not an exception: containers and CI have no user bus, so
``install_service`` reports that as an ``InstallOutcome`` together with the commands to run later.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SystemdError

__all__ = [
    "CAPTURED_VARIABLES",
    "SERVICE_TEMPLATE_NAME",
    "UNIT_TEMPLATE_PATH",
    "InstallError",
    "InstallOutcome",
    "InstallResult",
    "NotifyError",
    "SystemdError",
    "UnitNameError",
    "default_rustgd_path",
    "default_unit_dir",
    "escape_path",
    "install_service",
    "notify",
    "notify_extend_timeout",
    "notify_ready",
    "notify_status",
    "notify_stopping",
    "render_unit",
    "service_environment",
    "service_name",
    "unescape_path",
]

logger = logging.getLogger(__name__)


class NotifyError(SystemdError):
    """A notification could not be delivered to ``$NOTIFY_SOCKET``."""


class UnitNameError(SystemdError):
    """A path or name that systemd would refuse as a unit instance."""


class InstallError(SystemdError):
    """The unit file could not be rendered or written."""


# --------------------------------------------------------------------------------------------
# sd_notify

# A datagram to systemd's notify socket is queued, not processed, so a send returns at once unless
# the manager's receive queue is full. Bound the wait so that a wedged manager costs the daemon at
# most this long on its event loop, instead of forever.
_NOTIFY_SEND_TIMEOUT_S = 1.0


def notify(state: str, *, environ: Mapping[str, str] | None = None, check: bool = False) -> bool:
    """Send ``state`` (newline-separated ``KEY=VALUE`` assignments) to the service manager.

    Returns ``True`` when the datagram was handed to ``$NOTIFY_SOCKET`` and ``False`` when there
    is no such socket (not started by systemd, or not ``Type=notify``) or the send failed. A
    failure is logged as a warning, because a daemon that cannot tell systemd it is ready still
    serves its clients; pass ``check=True`` to get a ``NotifyError`` instead.

    Addresses are a filesystem path (``/run/user/1000/systemd/notify``) or an abstract socket name
    written with a leading ``@`` (sd_notify(3)). Blocking is bounded by a short send timeout, so
    this is safe to call from the trio thread.
    """
    env = os.environ if environ is None else environ
    address = env.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    try:
        _send_datagram(address, state.encode("utf-8"))
    except NotifyError as exc:
        if check:
            raise
        logger.warning("%s", exc)
        return False
    return True


def _send_datagram(address: str, payload: bytes) -> None:
    if address.startswith("@"):
        # Linux abstract namespace: the name starts with a NUL byte instead of "@".
        target = b"\0" + os.fsencode(address[1:])
    elif address.startswith("/"):
        target = os.fsencode(address)
    else:
        # systemd >= 254 also hands out "vsock:CID:PORT" addresses, used only for notifying a VM's
        # host; a workspace daemon never runs as a VM's init, so refuse rather than half-support.
        raise NotifyError(f"unsupported NOTIFY_SOCKET address {address!r}")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.settimeout(_NOTIFY_SEND_TIMEOUT_S)
            sock.sendto(payload, target)
    except OSError as exc:
        raise NotifyError(
            f"cannot notify systemd at NOTIFY_SOCKET={address!r}: {exc.strerror or exc}"
        ) from exc


def _one_line(text: str) -> str:
    # Each assignment is one line of the datagram; a newline in a status text would start a new,
    # bogus assignment.
    return " ".join(text.splitlines())


def notify_ready(status: str = "", *, environ: Mapping[str, str] | None = None) -> bool:
    """``READY=1``: start-up is complete and the daemon serves clients (``Type=notify``)."""
    state = "READY=1"
    if status:
        state += f"\nSTATUS={_one_line(status)}"
    return notify(state, environ=environ)


def notify_stopping(status: str = "", *, environ: Mapping[str, str] | None = None) -> bool:
    """``STOPPING=1``: shutdown has begun; the unit shows "deactivating" until the process exits."""
    state = "STOPPING=1"
    if status:
        state += f"\nSTATUS={_one_line(status)}"
    return notify(state, environ=environ)


def notify_status(text: str, *, environ: Mapping[str, str] | None = None) -> bool:
    """``STATUS=…``: the one-line text ``systemctl --user status`` shows for the unit."""
    return notify(f"STATUS={_one_line(text)}", environ=environ)


def notify_extend_timeout(seconds: float, *, environ: Mapping[str, str] | None = None) -> bool:
    """``EXTEND_TIMEOUT_USEC``: ask for ``seconds`` more before the start (or stop) times out.

    For a start-up step known to be slow (a cold numba cache, a first scan of a huge tree); each
    call moves the deadline to ``seconds`` from now. Needs systemd >= 236.
    """
    if seconds <= 0:
        raise ValueError(f"timeout extension must be positive, got {seconds!r}")
    return notify(f"EXTEND_TIMEOUT_USEC={round(seconds * 1_000_000)}", environ=environ)


# --------------------------------------------------------------------------------------------
# Unit names: systemd-escape --path

# VALID_CHARS of src/basic/unit-name.c minus "-" and "\\", which unit_name_escape() escapes anyway.
_KEEP = frozenset(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ:_.")
_NAME_MAX = 255  # NAME_MAX: longest path component path_is_valid() accepts
_PATH_MAX = 4096  # PATH_MAX, counted with the trailing NUL as systemd does
# UNIT_NAME_MAX is 256 including the terminating NUL: a unit name has at most 255 characters.
_UNIT_NAME_MAX = 255

SERVICE_TEMPLATE_NAME = "rustgd@.service"


def _simplified_components(raw: bytes) -> list[bytes]:
    """path_simplify(): drop empty and "." components; ".." stays for the caller to refuse."""
    return [part for part in raw.split(b"/") if part not in (b"", b".")]


def escape_path(path: str | os.PathLike[str]) -> str:
    """Escape ``path`` as ``systemd-escape --path`` (``unit_name_path_escape``) does.

    Duplicate slashes, "." components and trailing slashes are dropped, leading slashes are
    skipped, "/" becomes "-", a leading "." and every byte outside ``[A-Za-z0-9:_.]`` becomes
    ``\\xNN`` (UTF-8 byte by byte; undecodable names go through ``os.fsencode``). The root (and
    the empty string) is "-". Paths with ".." components are refused, as systemd refuses them.
    """
    raw = os.fsencode(path)
    if b"\0" in raw:
        raise UnitNameError(f"path {path!r} contains a NUL byte")
    if not raw:
        return "-"
    parts = _simplified_components(raw)
    absolute = raw.startswith(b"/")
    if not parts:
        if absolute:
            return "-"
        raise UnitNameError(f"path {os.fsdecode(raw)!r} is not normalized")
    simplified = (b"/" if absolute else b"") + b"/".join(parts)
    if any(len(part) > _NAME_MAX for part in parts) or len(simplified) >= _PATH_MAX:
        raise UnitNameError(f"path {os.fsdecode(raw)!r} is not a valid file system path")
    if b".." in parts:
        raise UnitNameError(f"path {os.fsdecode(raw)!r} is not normalized (it has '..')")
    out: list[str] = []
    for index, byte in enumerate(b"/".join(parts)):
        if byte == 0x2F:  # "/"
            out.append("-")
        elif byte in _KEEP and not (index == 0 and byte == 0x2E):  # no unit name starts with "."
            out.append(chr(byte))
        else:
            out.append(f"\\x{byte:02x}")
    return "".join(out)


def unescape_path(escaped: str) -> str:
    """The absolute path ``escaped`` names: ``unit_name_path_unescape``, i.e. the ``%f`` specifier.

    Inverse of ``escape_path`` for absolute, normalised paths (``systemd-escape --unescape
    --path``). Bytes that are not UTF-8 come back as surrogate escapes (``os.fsdecode``).
    """
    if not escaped:
        raise UnitNameError("empty instance name")
    if escaped == "-":
        return "/"
    out = bytearray()
    i = 0
    while i < len(escaped):
        char = escaped[i]
        if char == "-":
            out.append(0x2F)
            i += 1
        elif char == "\\":
            code = escaped[i + 1 : i + 4]
            if len(code) != 3 or code[0] != "x" or not _is_hex(code[1:]):
                raise UnitNameError(f"bad escape sequence in {escaped!r} at offset {i}")
            out.append(int(code[1:], 16))
            i += 4
        else:
            out.extend(char.encode("utf-8"))
            i += 1
    if 0 in out:
        raise UnitNameError(f"{escaped!r} unescapes to a path with a NUL byte")
    if out.startswith(b"/") or out.endswith(b"/"):
        raise UnitNameError(f"{escaped!r} does not name a normalized absolute path")
    path = b"/" + bytes(out)
    parts = path.split(b"/")[1:]
    if any(part in (b"", b".", b"..") or len(part) > _NAME_MAX for part in parts):
        raise UnitNameError(f"{escaped!r} does not name a normalized absolute path")
    if len(path) >= _PATH_MAX:
        raise UnitNameError(f"{escaped!r} names a path longer than PATH_MAX")
    return os.fsdecode(path)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def service_name(workspace: str | os.PathLike[str]) -> str:
    """``rustgd@<escaped workspace>.service`` for an absolute workspace path (not resolved here)."""
    if not os.fsencode(workspace).startswith(b"/"):
        raise UnitNameError(f"workspace path {os.fspath(workspace)!r} is not absolute")
    name = SERVICE_TEMPLATE_NAME.replace("@.", f"@{escape_path(workspace)}.", 1)
    if len(name) > _UNIT_NAME_MAX:
        # systemd refuses the name outright ("Failed to replace instance: Invalid argument").
        raise UnitNameError(
            f"the unit name for workspace {os.fspath(workspace)!r} would be {len(name)} "
            f"characters, over systemd's limit of {_UNIT_NAME_MAX}; move the workspace to a "
            f"shorter path, or run it with `rustgd start` instead"
        )
    return name


# --------------------------------------------------------------------------------------------
# The unit file

#: The template shipped in the source tree (systemd/ next to daemon/).
UNIT_TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "systemd" / SERVICE_TEMPLATE_NAME
_PLACEHOLDER = "@RUSTGD@"
_ENV_PLACEHOLDER_LINE = "@ENVIRONMENT@\n"
# systemd's string_is_safe() refuses executables whose path holds quotes, backslashes or control
# characters ("Executable name contains special characters"), however they are quoted.
_UNSAFE_EXEC_CHARS = frozenset("\"'\\\x7f") | frozenset(chr(c) for c in range(0x20))


def _exec_path_word(path: Path) -> str:
    """``path`` as the first word of ``ExecStart=``: specifiers escaped, quoted if it has spaces."""
    text = os.fspath(path)
    if not path.is_absolute():
        raise InstallError(f"rustgd path {text!r} is not absolute")
    if ".." in path.parts:
        raise InstallError(f"rustgd path {text!r} is not normalized (it has '..')")
    bad = sorted({c for c in text if c in _UNSAFE_EXEC_CHARS})
    if bad:
        raise InstallError(
            f"systemd cannot execute {text!r}: its path contains {', '.join(map(repr, bad))}; "
            f"install rustgd under a plainer path"
        )
    word = text.replace("%", "%%")
    if any(c.isspace() for c in word):
        word = f'"{word}"'
    return word


def _environment_line(key: str, value: str) -> str:
    """One ``Environment=`` line, quoted and escaped as systemd unquotes and C-unescapes it."""
    if not key.isidentifier() or any(unicodedata.category(c) == "Cc" for c in value):
        raise InstallError(f"cannot put {key}={value!r} into a unit file")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return f'Environment="{key}={escaped}"'


def render_unit(
    rustgd_path: Path,
    *,
    environment: Mapping[str, str] | None = None,
    template: Path = UNIT_TEMPLATE_PATH,
) -> str:
    """The text of ``rustgd@.service`` with ``ExecStart=`` pointing at ``rustgd_path``.

    ``environment`` becomes ``Environment=`` lines in the service (``service_environment`` picks
    the installing shell's PATH and friends). Pure apart from reading ``template``; whether
    ``rustgd_path`` exists is ``install_service``'s business.
    """
    try:
        text = template.read_text(encoding="utf-8")
    except OSError as exc:
        raise InstallError(
            f"cannot read the unit template {os.fspath(template)!r}: {exc.strerror or exc}"
        ) from exc
    for placeholder in (_PLACEHOLDER, _ENV_PLACEHOLDER_LINE):
        if text.count(placeholder) != 1:
            raise InstallError(
                f"unit template {os.fspath(template)!r} must hold {placeholder.strip()} once"
            )
    lines = "".join(
        _environment_line(key, value) + "\n" for key, value in sorted((environment or {}).items())
    )
    text = text.replace(_ENV_PLACEHOLDER_LINE, lines)
    return text.replace(_PLACEHOLDER, _exec_path_word(rustgd_path))


#: Variables of the installing shell that decide which cargo and toolchain the daemon runs.
CAPTURED_VARIABLES = ("PATH", "CARGO_HOME", "RUSTUP_HOME")


def service_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """What of ``environ`` (default ``os.environ``) the unit should pin: ``CAPTURED_VARIABLES``.

    The user manager starts services with its own, minimal PATH, which rarely holds
    ``~/.cargo/bin`` where rustup puts cargo; ``rustgd start`` from a shell would find it. Only
    absolute PATH entries are kept (a relative one would resolve against the workspace) and
    duplicates dropped; CARGO_HOME and RUSTUP_HOME are kept when set to absolute paths.
    """
    env = os.environ if environ is None else environ
    captured: dict[str, str] = {}
    entries = [e for e in env.get("PATH", "").split(os.pathsep) if os.path.isabs(e)]
    if entries:
        captured["PATH"] = os.pathsep.join(dict.fromkeys(entries))
    for key in CAPTURED_VARIABLES[1:]:
        value = env.get(key, "")
        if os.path.isabs(value):
            captured[key] = value
    return captured


def default_unit_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/systemd/user``, or ``~/.config/systemd/user``.

    A relative ``$XDG_CONFIG_HOME`` is ignored, as the XDG base directory spec requires and as
    systemd's user manager does.
    """
    env = os.environ if environ is None else environ
    config = env.get("XDG_CONFIG_HOME", "")
    if not os.path.isabs(config):
        home = env.get("HOME") or os.path.expanduser("~")
        config = os.path.join(home, ".config")
    return Path(config) / "systemd" / "user"


def default_rustgd_path() -> Path:
    """The ``rustgd`` console script of the running installation.

    The one next to the interpreter (a venv's ``bin/``) wins over ``$PATH``, so the unit runs the
    same installation as the command that installed it. Symlinks are not resolved: resolving a
    venv's ``bin/python`` would leave the venv.
    """
    beside = Path(os.path.abspath(sys.executable)).parent / "rustgd"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("rustgd")
    if found is None:
        raise InstallError(
            "cannot find the rustgd executable (not beside the Python interpreter, not on PATH)"
        )
    return Path(os.path.abspath(found))


class _Written(enum.Enum):
    CREATED = "created"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"


def _write_atomically(target: Path, text: str) -> _Written:
    """Replace ``target`` with ``text`` (mode 0644) so readers see the old or the new file.

    An identical file is left alone.
    """
    data = text.encode("utf-8")
    try:
        before: bytes | None = target.read_bytes()
    except OSError:  # missing; anything worse shows again when writing
        before = None
    if before == data:
        return _Written.UNCHANGED
    target.parent.mkdir(parents=True, exist_ok=True)
    # The temporary name is no valid unit name (it does not end in ".service"), so a daemon-reload
    # racing with this write never loads it.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fchmod(tmp.fileno(), 0o644)
            os.fsync(tmp.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    dir_fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return _Written.CREATED if before is None else _Written.REPLACED


# --------------------------------------------------------------------------------------------
# install_service


class InstallOutcome(enum.Enum):
    """What ``install_service`` achieved."""

    #: Unit written, ``daemon-reload`` and ``enable --now`` succeeded: the daemon is running
    #: (``enable --now`` returns once the start job is done, i.e. after READY=1).
    ENABLED = "enabled"
    #: Unit written; enabling was not asked for (``enable=False``).
    WRITTEN = "written"
    #: Unit written, but ``systemctl --user`` could not reach a user service manager (no
    #: systemctl, no user bus: containers, CI, ssh sessions without lingering).
    MANAGER_UNAVAILABLE = "manager-unavailable"
    #: Unit written and the manager reached, but enabling or starting the instance failed.
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class InstallResult:
    unit_path: Path
    #: The instance's unit name, ``rustgd@<escaped workspace>.service``.
    instance: str
    outcome: InstallOutcome
    #: One human-readable paragraph: what happened and, unless enabled, what to run.
    message: str
    #: Commands still to run to get the daemon enabled and running (empty when ENABLED).
    pending: tuple[tuple[str, ...], ...] = ()
    #: Whether the unit file's content changed on disk.
    changed: bool = True

    @property
    def enabled(self) -> bool:
        return self.outcome is InstallOutcome.ENABLED


# Runs ``argv`` like ``subprocess.run(argv, **kwargs)``; tests pass a fake.
Runner = Callable[..., "subprocess.CompletedProcess[str]"]

# ``enable --now`` waits for the start job, i.e. up to the unit's TimeoutStartSec (2 min) for
# READY=1; give systemctl a little longer than that before giving up on it.
_ENABLE_TIMEOUT_S = 150.0
_RELOAD_TIMEOUT_S = 30.0


def _systemctl(*args: str) -> tuple[str, ...]:
    return ("systemctl", "--user", *args)


def _shell(commands: Sequence[Sequence[str]]) -> str:
    return " && ".join(shlex.join(cmd) for cmd in commands)


def _run(run: Runner, argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``argv``; ``OSError`` (no systemctl) and timeouts come back as a failed process."""
    kwargs: dict[str, Any] = {
        "capture_output": True,
        "text": True,
        "check": False,
        "stdin": subprocess.DEVNULL,
        "timeout": timeout,
    }
    try:
        return run(list(argv), **kwargs)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(list(argv), -1, "", f"timed out after {timeout:g} s")
    except OSError as exc:
        return subprocess.CompletedProcess(list(argv), 127, "", f"{argv[0]}: {exc.strerror or exc}")


def _why(proc: subprocess.CompletedProcess[str]) -> str:
    detail = " ".join((proc.stderr or proc.stdout or "").split())
    status = f"exit status {proc.returncode}" if proc.returncode >= 0 else "no exit status"
    return f"{detail} ({status})" if detail else status


def install_service(
    workspace: Path,
    *,
    rustgd_path: Path,
    unit_dir: Path | None = None,
    enable: bool = True,
    run: Runner = subprocess.run,
    environ: Mapping[str, str] | None = None,
) -> InstallResult:
    """Write ``rustgd@.service`` and (with ``enable``) enable and start ``workspace``'s instance.

    ``workspace`` is resolved (symlinks included) so one workspace has one instance name whatever
    path it was reached by. The template goes to ``unit_dir`` (default ``default_unit_dir()``),
    replaced atomically; it is shared by every workspace, so installing again with another
    ``rustgd_path`` moves all instances to it at their next start. The unit pins
    ``service_environment(environ)`` (PATH, CARGO_HOME, RUSTUP_HOME of the caller), so the
    service runs the cargo that ``rustgd start`` from the same shell would run.

    Then ``systemctl --user daemon-reload`` and ``systemctl --user enable --now <instance>``. The
    result never claims more than happened: when there is no user manager to talk to, or enabling
    fails, its ``outcome`` says so and ``pending``/``message`` hold the commands to run later.
    Raises ``InstallError`` (or ``UnitNameError``) when the unit cannot even be written.
    """
    try:
        root = workspace.resolve(strict=True)
    except OSError as exc:
        raise InstallError(
            f"workspace {os.fspath(workspace)!r} does not exist: {exc.strerror or exc}"
        ) from exc
    if not root.is_dir():
        raise InstallError(f"workspace {os.fspath(root)!r} is not a directory")
    instance = service_name(root)
    if not (rustgd_path.is_file() and os.access(rustgd_path, os.X_OK)):
        raise InstallError(f"rustgd path {os.fspath(rustgd_path)!r} is not an executable file")
    text = render_unit(rustgd_path, environment=service_environment(environ))
    directory = default_unit_dir(environ) if unit_dir is None else unit_dir
    unit_path = directory / SERVICE_TEMPLATE_NAME
    try:
        written_as = _write_atomically(unit_path, text)
    except OSError as exc:
        raise InstallError(f"cannot write {os.fspath(unit_path)!r}: {exc.strerror or exc}") from exc

    changed = written_as is not _Written.UNCHANGED
    reload_cmd = _systemctl("daemon-reload")
    enable_cmd = _systemctl("enable", "--now", instance)
    quoted = shlex.quote(instance)
    written = f"Wrote {unit_path}."
    if not enable:
        return InstallResult(
            unit_path,
            instance,
            InstallOutcome.WRITTEN,
            f"{written} To enable and start the daemon for {root}, run: "
            f"{_shell([reload_cmd, enable_cmd])}",
            (reload_cmd, enable_cmd),
            changed,
        )

    reload = _run(run, reload_cmd, _RELOAD_TIMEOUT_S)
    if reload.returncode != 0:
        # daemon-reload only fails when there is no manager to talk to: no systemctl, or neither
        # a user bus nor $XDG_RUNTIME_DIR/systemd/private ("Failed to connect to bus").
        return InstallResult(
            unit_path,
            instance,
            InstallOutcome.MANAGER_UNAVAILABLE,
            f"{written} The daemon was NOT enabled: `{shlex.join(reload_cmd)}` failed: "
            f"{_why(reload)}. In a session with a systemd user manager, run: "
            f"{_shell([reload_cmd, enable_cmd])}",
            (reload_cmd, enable_cmd),
            changed,
        )

    started = _run(run, enable_cmd, _ENABLE_TIMEOUT_S)
    if started.returncode != 0:
        return InstallResult(
            unit_path,
            instance,
            InstallOutcome.FAILED,
            f"{written} `{shlex.join(enable_cmd)}` failed: {_why(started)}. The unit may be "
            f"enabled without running; see `systemctl --user status {quoted}` and "
            f"`journalctl --user -u {quoted}`, then run: {shlex.join(enable_cmd)}",
            (enable_cmd,),
            changed,
        )
    note = ""
    if written_as is _Written.REPLACED:
        note = (
            " If the daemon was already running it keeps its old command line until "
            f"`systemctl --user restart {quoted}`."
        )
    return InstallResult(
        unit_path,
        instance,
        InstallOutcome.ENABLED,
        f"{written} Enabled and started {instance} for {root}; it starts again at login.{note}"
        f" Logs: journalctl --user -u {quoted}",
        (),
        changed,
    )
