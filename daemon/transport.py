"""ZeroMQ under trio: the one place that knows about zmq file descriptors.

A zmq socket's FD is *edge*-triggered and signals "something changed", not "readable": after
every wake we must re-read ``zmq.EVENTS`` and drain until EAGAIN, and before sleeping we must
check ``EVENTS`` again because a send on the same socket may have consumed the edge. A send
from *another* task while a receiver is already asleep can consume the edge too (zmq processes
the socket's pending commands, "a message arrived" among them, inside ``send``); so every send
looks for a parked receiver and wakes it when the socket has become readable. Measured without
that wake-up: each such send delayed the receiver by the full safety-net wait (0.98 s of 1 s),
tests/daemon/test_transport.py pins it. As a last line of defence each wait is bounded (1 s),
which costs one wake-up per second while idle.

Sockets used (docs/protocol.md): the daemon binds PUB (events) and ROUTER (requests) on ipc
endpoints inside its private runtime directory; clients connect SUB and DEALER. On request the
same two sockets also listen on loopback TCP, secured with CURVE (docs/remote.md): the CURVE
options are set *after* the ipc binds, and zmq applies such options only to later binds and
connects (zmq_setsockopt(3): all but a listed few "only take effect for subsequent socket
bind/connects"), so ipc stays exactly as without TCP (no CURVE, no ZAP) while TCP peers must
present an authorized key.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import trio
import zmq
from zmq.auth.thread import ThreadAuthenticator
from zmq.utils.monitor import recv_monitor_message

from .curve import AuthorizedKeys, ClientCurve, ServerCurve
from .errors import TransportError, map_exceptions

log = logging.getLogger(__name__)

_ZMQ_ERRORS = {zmq.ZMQError: TransportError, trio.ClosedResourceError: TransportError}
#: Upper bound on one sleep; see the module docstring.
_MAX_WAIT_S: Final = 1.0
#: Events queued per subscriber before PUB drops (clients notice via sequence gaps).
PUB_HWM: Final = 100_000
#: ZAP domain of the TCP endpoints; the authenticator answers for this domain only.
ZAP_DOMAIN: Final = "rustg"
#: Handshake failures a client's monitor reports (zmq_socket_monitor(3)).
_HANDSHAKE_FAILURES: Final = (
    zmq.EVENT_HANDSHAKE_FAILED_AUTH
    | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
    | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
)


@dataclass(frozen=True, slots=True)
class SocketStatistics:
    #: Receives woken by the safety-net timeout while a message was already waiting: each one
    #: is a lost edge that cost up to ``_MAX_WAIT_S`` of latency (should stay 0).
    lost_wakeups: int
    #: Receivers woken by a send on the same socket (the race in the module docstring).
    woken_by_send: int


class TrioSocket:
    """A zmq socket driven from trio. Only one task may receive on it at a time; any task may
    send."""

    def __init__(self, sock: zmq.Socket[bytes], *, monitor: zmq.Socket[bytes] | None = None):
        self.sock = sock
        self._fd = _int_option(sock, zmq.FD)
        self._monitor = monitor
        #: The cancel scope of the receiver asleep on the FD, for senders to wake it.
        self._parked: trio.CancelScope | None = None
        self._handshake_error: str | None = None
        self._lost_wakeups = 0
        self._woken_by_send = 0

    def _readable(self) -> bool:
        return bool(_int_option(self.sock, zmq.EVENTS) & zmq.POLLIN)

    async def recv_multipart(self) -> list[bytes]:
        with map_exceptions(_ZMQ_ERRORS):
            while True:
                try:
                    return self.sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    pass
                if self._readable():
                    continue
                with trio.move_on_after(_MAX_WAIT_S) as scope:
                    self._parked = scope
                    try:
                        await trio.lowlevel.wait_readable(self._fd)
                    finally:
                        self._parked = None
                expired = scope.cancelled_caught and scope.deadline <= trio.current_time()
                if expired and self._readable():
                    self._lost_wakeups += 1

    def send_multipart_nowait(self, frames: list[bytes]) -> bool:
        """Send without blocking; False if zmq would have to block (high-water mark)."""
        with map_exceptions(_ZMQ_ERRORS):
            try:
                self.sock.send_multipart(frames, zmq.NOBLOCK)
                sent = True
            except zmq.Again:
                sent = False
            # Even a refused send processes pending commands and may eat the receiver's edge.
            if self._parked is not None and self._readable():
                self._parked.cancel()
                self._woken_by_send += 1
            return sent

    def statistics(self) -> SocketStatistics:
        return SocketStatistics(lost_wakeups=self._lost_wakeups, woken_by_send=self._woken_by_send)

    def handshake_error(self) -> str | None:
        """Why the last security handshake with the daemon failed, if one did (for example an
        unauthorized CURVE key), else None. Only sockets opened with ``curve=`` know; a client
        calls it when a request timed out, to say more than "no answer"."""
        if self._monitor is None:
            return None
        with map_exceptions(_ZMQ_ERRORS):
            while True:
                try:
                    event = recv_monitor_message(self._monitor, zmq.NOBLOCK)
                except zmq.Again:
                    break
                assert isinstance(event, dict)  # a sync socket never returns an awaitable
                self._handshake_error = _describe_handshake_failure(event)
        return self._handshake_error

    def close(self) -> None:
        if self.sock.closed:
            return  # the descriptor number may already belong to someone else
        try:
            # A task still asleep on the FD gets ClosedResourceError (→ TransportError)
            # instead of waiting on a descriptor number that may be reused.
            trio.lowlevel.notify_closing(self._fd)
        except RuntimeError:
            pass  # not inside trio: nobody can be waiting
        if self._monitor is not None:
            self.sock.disable_monitor()
            self._monitor.close(linger=0)
        self.sock.close(linger=0)


def _int_option(sock: zmq.Socket[bytes], option: int) -> int:
    value = sock.getsockopt(option)
    assert isinstance(value, int), option  # pyzmq types every option as int | bytes
    return value


def _describe_handshake_failure(event: Mapping[str, object]) -> str:
    kind = event.get("event")
    endpoint = event.get("endpoint", b"")
    where = endpoint.decode(errors="replace") if isinstance(endpoint, bytes) else str(endpoint)
    if kind == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
        # The value is the ZAP status code: 400 is "not authorized".
        return f"{where}: the daemon refused our CURVE key (ZAP status {event.get('value')})"
    if kind == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
        return f"{where}: security handshake failed (protocol error {event.get('value')})"
    return f"{where}: security handshake failed (wrong daemon key?)"


# -- endpoints ----------------------------------------------------------------------------------


def _unlink_stale(endpoint: str) -> None:
    # Only called by the lock holder: a socket file left behind by a killed daemon.
    if endpoint.startswith("ipc://"):
        try:
            os.unlink(endpoint[len("ipc://") :])
        except FileNotFoundError:
            pass


@dataclass(frozen=True, slots=True)
class TcpConfig:
    """Loopback TCP listening, CURVE-secured: requests (ROUTER) on ``port``, events (PUB) on
    ``port + 1``. ``port=0`` lets the OS choose two free ports (tests; see
    ``ServerSockets.tcp_requests``/``tcp_events`` for what was bound)."""

    port: int
    curve: ServerCurve
    host: str = "127.0.0.1"


def loopback_host(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """``host`` as a loopback IP address, or TransportError.

    Only literal addresses: a name such as ``localhost`` resolves through /etc/hosts and DNS,
    which is one edit away from listening on a public interface.
    """
    try:
        address = ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        raise TransportError(
            f"tcp host {host!r} is not an IP address: rustgd listens on TCP only on loopback "
            "(127.0.0.1 or ::1); reach it from elsewhere through an ssh tunnel (docs/remote.md)"
        ) from None
    if not address.is_loopback:
        raise TransportError(
            f"tcp host {host} is not a loopback address: rustgd listens on TCP only on "
            "loopback (127.0.0.1 or ::1); reach it from elsewhere through an ssh tunnel "
            "(docs/remote.md)"
        )
    return address


def tcp_endpoint(host: str, port: int | str) -> str:
    address = ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    return f"tcp://[{address}]:{port}" if address.version == 6 else f"tcp://{address}:{port}"


def _is_ipv6_tcp(endpoint: str) -> bool:
    return endpoint.startswith("tcp://[")


class ServerSockets:
    def __init__(
        self,
        pub: TrioSocket,
        router: TrioSocket,
        *,
        tcp_events: str | None = None,
        tcp_requests: str | None = None,
    ) -> None:
        self.pub = pub
        self.router = router
        #: The TCP endpoints actually bound (ports resolved), None without TCP.
        self.tcp_events = tcp_events
        self.tcp_requests = tcp_requests


def _bind_tcp(sock: zmq.Socket[bytes], curve: ServerCurve, endpoint: str) -> str:
    sock.setsockopt(zmq.CURVE_SERVER, 1)
    sock.setsockopt(zmq.CURVE_PUBLICKEY, curve.public)
    sock.setsockopt(zmq.CURVE_SECRETKEY, curve.secret)
    sock.setsockopt(zmq.ZAP_DOMAIN, ZAP_DOMAIN.encode())
    # Without a ZAP handler zmq would accept *any* CURVE client ("Stonehouse" legacy mode);
    # enforcing the domain makes a missing handler a refused handshake instead.
    sock.setsockopt(zmq.ZAP_ENFORCE_DOMAIN, 1)
    if _is_ipv6_tcp(endpoint):
        sock.setsockopt(zmq.IPV6, 1)
    sock.bind(endpoint)
    return sock.getsockopt_string(zmq.LAST_ENDPOINT)


@asynccontextmanager
async def open_server_sockets(
    events: str, requests: str, *, tcp: TcpConfig | None = None
) -> AsyncIterator[ServerSockets]:
    """PUB (events) and ROUTER (requests) bound on the ipc endpoints, and also on loopback TCP
    with CURVE when ``tcp`` is given. Non-loopback TCP hosts are refused (TransportError)."""
    if tcp is not None:
        loopback_host(tcp.host)
        if not (tcp.port == 0 or 0 < tcp.port < 65535):
            raise TransportError(f"tcp port {tcp.port}: need 1..65534 (events use port + 1)")
    ctx = zmq.Context()
    pub = router = None
    auth: ThreadAuthenticator | None = None
    tcp_events = tcp_requests = None
    wrapped: list[TrioSocket] = []
    try:
        with map_exceptions(_ZMQ_ERRORS):
            pub = ctx.socket(zmq.PUB)
            pub.setsockopt(zmq.SNDHWM, PUB_HWM)
            pub.setsockopt(zmq.LINGER, 0)
            router = ctx.socket(zmq.ROUTER)
            router.setsockopt(zmq.LINGER, 0)
            for sock, endpoint in ((pub, events), (router, requests)):
                _unlink_stale(endpoint)
                sock.bind(endpoint)
                if endpoint.startswith("ipc://"):
                    Path(endpoint[len("ipc://") :]).chmod(0o600)
            if tcp is not None:
                # The authenticator must answer before the first TCP handshake can happen.
                auth = ThreadAuthenticator(ctx, log=log.getChild("zap"))
                auth.start()
                auth.configure_curve_callback(ZAP_DOMAIN, AuthorizedKeys(tcp.curve.authorized_dir))
                port = str(tcp.port) if tcp.port else "*"
                tcp_requests = _bind_tcp(router, tcp.curve, tcp_endpoint(tcp.host, port))
                port = str(tcp.port + 1) if tcp.port else "*"
                tcp_events = _bind_tcp(pub, tcp.curve, tcp_endpoint(tcp.host, port))
                log.info("listening on %s (requests) and %s (events)", tcp_requests, tcp_events)
            server = ServerSockets(
                TrioSocket(pub),
                TrioSocket(router),
                tcp_events=tcp_events,
                tcp_requests=tcp_requests,
            )
            wrapped = [server.pub, server.router]
        yield server
    finally:
        # Sockets go before the authenticator: no moment where TCP listens unguarded.
        for trio_sock in wrapped:
            trio_sock.close()
        for raw in (pub, router):
            if raw is not None and not raw.closed:
                raw.close(linger=0)
        if auth is not None:
            auth.stop()
        ctx.term()
        for endpoint in (events, requests):
            _unlink_stale(endpoint)


def _apply_client_curve(sock: zmq.Socket[bytes], curve: ClientCurve) -> None:
    sock.setsockopt(zmq.CURVE_SERVERKEY, curve.server_public)
    sock.setsockopt(zmq.CURVE_PUBLICKEY, curve.public)
    sock.setsockopt(zmq.CURVE_SECRETKEY, curve.secret)


def _connect(sock: zmq.Socket[bytes], endpoint: str, curve: ClientCurve | None) -> None:
    if endpoint.startswith("tcp://"):
        if curve is None:
            # rustgd's TCP endpoints are always CURVE: without keys the handshake can never
            # succeed and the client would only see a timeout.
            raise TransportError(f"{endpoint}: rustgd's TCP endpoints need CURVE keys")
        if _is_ipv6_tcp(endpoint):
            sock.setsockopt(zmq.IPV6, 1)
    if curve is not None:
        _apply_client_curve(sock, curve)
    sock.connect(endpoint)


@asynccontextmanager
async def open_client_sockets(
    events: str | None, requests: str, *, curve: ClientCurve | None = None
) -> AsyncIterator[tuple[TrioSocket | None, TrioSocket]]:
    """SUB (optional, subscribed to everything) and DEALER sockets connected to a daemon.

    ``curve`` is required for TCP endpoints (docs/remote.md); with it the DEALER also watches
    its handshakes, so ``dealer.handshake_error()`` can say why a daemon never answered.
    """
    ctx = zmq.Context()
    sub = dealer = monitor = None
    wrapped: list[TrioSocket] = []
    try:
        with map_exceptions(_ZMQ_ERRORS):
            if events is not None:
                sub = ctx.socket(zmq.SUB)
                sub.setsockopt(zmq.RCVHWM, PUB_HWM)
                sub.setsockopt(zmq.LINGER, 0)
                sub.setsockopt(zmq.SUBSCRIBE, b"")
                _connect(sub, events, curve)
            dealer = ctx.socket(zmq.DEALER)
            dealer.setsockopt(zmq.LINGER, 0)
            monitor = dealer.get_monitor_socket(_HANDSHAKE_FAILURES) if curve else None
            _connect(dealer, requests, curve)
            trio_sub = TrioSocket(sub) if sub is not None else None
            trio_dealer = TrioSocket(dealer, monitor=monitor)
            wrapped = [s for s in (trio_sub, trio_dealer) if s is not None]
        yield trio_sub, trio_dealer
    finally:
        for trio_sock in wrapped:
            trio_sock.close()
        for raw in (sub, dealer, monitor):
            if raw is not None and not raw.closed:
                raw.close(linger=0)
        ctx.term()
