"""CURVE keys for the daemon's optional loopback TCP endpoints (docs/remote.md).

Three places hold keys, all in ZeroMQ's certificate format (``zmq.auth``: a ``NAME.key`` file
with the public key, a ``NAME.key_secret`` file with both):

* the daemon's keypair, ``<state dir>/curve/server.key{,_secret}``, created on first use;
* the authorized clients, ``<state dir>/curve/authorized/*.key``: public certificates only.
  It is read on every TCP handshake, so copying a certificate in (or deleting one) takes effect
  for the next connection without restarting the daemon;
* a client keypair per user, ``$XDG_CONFIG_HOME/rustg/curve/client.key{,_secret}`` (default
  ``~/.config``), created on first use. Its ``client.key`` is what a user hands to the daemon's
  owner to be authorized.

Directories are 0700 and secret files 0600; a secret file that group or others can read is
refused (it may have leaked), as ssh refuses such a private key. Keys travel as Z85 text (40
characters), the form ``zmq.CURVE_*KEY`` socket options and the certificate files use.

Every failure here is a ``TransportError``: these keys exist only for the transport.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import zmq
import zmq.auth

from .errors import TransportError

log = logging.getLogger(__name__)

SERVER_NAME: Final = "server"
CLIENT_NAME: Final = "client"
#: Z85 encodes 32 bytes as 40 characters from this alphabet (ZeroMQ RFC 32).
_Z85_KEY = re.compile(rb"[0-9a-zA-Z.\-:+=^!/*?&<>()\[\]{}@%$#]{40}")
#: A name for an authorized client's certificate: it becomes ``NAME.key``.
_CERT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


@dataclass(frozen=True, slots=True)
class ServerCurve:
    """The daemon's keypair and where the authorized clients' public certificates live."""

    public: bytes  # Z85
    secret: bytes  # Z85
    authorized_dir: Path

    def __repr__(self) -> str:  # keep the secret out of logs and tracebacks
        return f"ServerCurve(public={self.public!r}, authorized_dir={self.authorized_dir!r})"


@dataclass(frozen=True, slots=True)
class ClientCurve:
    """What a client needs for a CURVE connection: the daemon's public key and its own pair."""

    server_public: bytes  # Z85
    public: bytes  # Z85
    secret: bytes  # Z85

    def __repr__(self) -> str:
        return f"ClientCurve(server_public={self.server_public!r}, public={self.public!r})"


# -- where keys live ----------------------------------------------------------------------------


def server_keys_dir(state_dir: Path) -> Path:
    return state_dir / "curve"


def authorized_dir(state_dir: Path) -> Path:
    return server_keys_dir(state_dir) / "authorized"


def server_public_cert(state_dir: Path) -> Path:
    """The daemon's public certificate: the file a remote client needs a copy of."""
    return server_keys_dir(state_dir) / f"{SERVER_NAME}.key"


def client_keys_dir() -> Path:
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "rustg" / "curve"


def client_public_cert(directory: Path | None = None) -> Path:
    return (directory or client_keys_dir()) / f"{CLIENT_NAME}.key"


# -- key files ----------------------------------------------------------------------------------


def _private_dir(path: Path) -> Path:
    """Create ``path`` (mode 0700, parents as needed) and refuse one that another user owns."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.stat()
        if info.st_uid != os.getuid():
            raise TransportError(f"{path} belongs to uid {info.st_uid}, not to us")
        if info.st_mode & 0o077:
            path.chmod(0o700)
    except OSError as exc:
        raise TransportError(f"cannot create key directory {path}: {exc}") from exc
    return path


def _check_key(key: bytes | None, origin: Path | str) -> bytes:
    if key is None or not _Z85_KEY.fullmatch(key):
        raise TransportError(f"{origin}: not a CURVE key (expected 40 characters of Z85)")
    return key


def read_public_key(cert: Path) -> bytes:
    """The Z85 public key of a certificate file (public or secret)."""
    try:
        public, _ = zmq.auth.load_certificate(cert)
    except (OSError, ValueError) as exc:
        raise TransportError(f"cannot read CURVE certificate {cert}: {exc}") from exc
    return _check_key(public, cert)


def _read_keypair(secret_file: Path) -> tuple[bytes, bytes]:
    try:
        mode = secret_file.stat().st_mode
        public, secret = zmq.auth.load_certificate(secret_file)
    except (OSError, ValueError) as exc:
        raise TransportError(f"cannot read CURVE secret certificate {secret_file}: {exc}") from exc
    if mode & 0o077:
        raise TransportError(
            f"{secret_file} is accessible to group or others (mode {mode & 0o777:o}): "
            "the key may have leaked; delete it to have a new one made, or chmod 600 it"
        )
    public = _check_key(public, secret_file)
    secret = _check_key(secret, secret_file)
    if zmq.curve_public(secret) != public:
        raise TransportError(f"{secret_file}: its public key does not match its secret key")
    return public, secret


def _write_new(path: Path, text: str, mode: int) -> bool:
    """Create ``path`` atomically with ``mode`` unless it exists; True if we created it.

    Two processes may make the same key on first use (two clients starting at once): each
    writes a complete temporary file and links it into place, so exactly one wins and nobody
    ever reads a half-written key.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), mode)
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(tmp)


def _cert_text(public: bytes, secret: bytes | None, role: str) -> str:
    # The layout zmq.auth.create_certificates writes, so zmq.auth.load_certificate (and czmq
    # tools) read these files; written by hand because that function is not atomic.
    lines = [
        f"#   ZeroMQ CURVE {'**Secret**' if secret else 'Public'} Certificate",
        f"#   rustg {role} key{': DO NOT SHARE THIS FILE' if secret else ''}",
        "",
        "metadata",
        "curve",
        f'    public-key = "{public.decode()}"',
    ]
    if secret is not None:
        lines.append(f'    secret-key = "{secret.decode()}"')
    return "\n".join(lines) + "\n"


def _ensure_keypair(directory: Path, name: str, role: str) -> tuple[bytes, bytes]:
    """Load ``directory/name.key_secret``, creating the pair on first use; (public, secret)."""
    _private_dir(directory)
    secret_file = directory / f"{name}.key_secret"
    public_file = directory / f"{name}.key"
    try:
        if not secret_file.exists():
            public, secret = zmq.curve_keypair()
            if _write_new(secret_file, _cert_text(public, secret, role), 0o600):
                log.info("created a CURVE %s keypair in %s", role, directory)
        public, secret = _read_keypair(secret_file)
        # The public file is derived from the secret one: (re)write it when missing or stale.
        if not public_file.exists() or read_public_key(public_file) != public:
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{public_file.name}.")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                os.fchmod(f.fileno(), 0o644)
                f.write(_cert_text(public, None, role))
            os.replace(tmp, public_file)
    except OSError as exc:
        raise TransportError(f"cannot create CURVE keys in {directory}: {exc}") from exc
    return public, secret


def ensure_server_curve(state_dir: Path) -> ServerCurve:
    """The daemon's keys under its state directory, created on first use."""
    public, secret = _ensure_keypair(server_keys_dir(state_dir), SERVER_NAME, "daemon")
    authorized = _private_dir(authorized_dir(state_dir))
    return ServerCurve(public=public, secret=secret, authorized_dir=authorized)


def ensure_client_keypair(directory: Path | None = None) -> tuple[bytes, bytes]:
    """This user's client keypair (default ``~/.config/rustg/curve``), created on first use."""
    return _ensure_keypair(directory or client_keys_dir(), CLIENT_NAME, "client")


def client_curve(server_public: bytes | Path, directory: Path | None = None) -> ClientCurve:
    """A client's CURVE settings: the daemon's key (Z85 or its certificate file) and ours."""
    if isinstance(server_public, Path):
        server_key = read_public_key(server_public)
    else:
        server_key = _check_key(server_public, "the daemon's public key")
    public, secret = ensure_client_keypair(directory)
    return ClientCurve(server_public=server_key, public=public, secret=secret)


# -- authorized clients -------------------------------------------------------------------------


def authorize_client(authorized: Path, cert: Path, name: str) -> Path:
    """Authorize a client by copying its public certificate in as ``NAME.key``.

    Only the public key is copied (a secret certificate handed over by mistake is not stored).
    """
    if not _CERT_NAME.fullmatch(name):
        raise TransportError(
            f"client name {name!r}: use letters, digits and . _ @ - (at most 64 characters)"
        )
    public = read_public_key(cert)
    target = _private_dir(authorized) / f"{name}.key"
    try:
        fd, tmp = tempfile.mkstemp(dir=authorized, prefix=f".{target.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), 0o644)
            f.write(_cert_text(public, None, f"authorized client {name}"))
        os.replace(tmp, target)
    except OSError as exc:
        raise TransportError(f"cannot authorize {cert} in {authorized}: {exc}") from exc
    return target


def authorized_keys(authorized: Path) -> dict[bytes, str]:
    """Public key (Z85) → certificate name, for every ``*.key`` file in ``authorized``.

    Unreadable or malformed files are skipped with a warning: one bad file must not lock out
    every other client.
    """
    keys: dict[bytes, str] = {}
    try:
        certs = sorted(authorized.glob("*.key"))
    except OSError as exc:
        log.warning("cannot list authorized CURVE clients in %s: %s", authorized, exc)
        return keys
    for cert in certs:
        try:
            keys[read_public_key(cert)] = cert.stem
        except TransportError as exc:
            log.warning("ignoring authorized client certificate: %s", exc)
    return keys


class AuthorizedKeys:
    """ZAP credentials provider (``Authenticator.configure_curve_callback``): a client may
    connect iff its public key is in the authorized directory *now*.

    Read on every handshake rather than once at start (as ``configure_curve`` does) so that
    authorizing or revoking a client needs no daemon restart; handshakes are rare and the
    directory small. It runs on the authenticator's thread, where blocking reads are fine, and
    never raises: an exception would kill that thread and leave every later handshake hanging.
    """

    def __init__(self, authorized: Path) -> None:
        self.authorized = authorized

    def callback(self, domain: str, key: bytes) -> bool:
        try:
            name = authorized_keys(self.authorized).get(key)
        except Exception:  # see the class docstring: deny, never raise
            log.exception("checking CURVE client key %r", key)
            return False
        if name is None:
            log.warning("refused a TCP client with an unauthorized CURVE key %s", key.decode())
            return False
        log.info("accepted TCP client %r", name)
        return True
