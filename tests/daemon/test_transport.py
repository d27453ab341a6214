"""The zmq transport with real sockets under trio: ipc, loopback TCP with CURVE, the CURVE key
files, and the edge-triggered FD handling (bursts, sends that eat a sleeping receiver's edge)."""

from __future__ import annotations

import os
import socket
import stat
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trio
import zmq

from rustg.daemon import curve as curve_mod
from rustg.daemon.curve import (
    AuthorizedKeys,
    ClientCurve,
    ServerCurve,
    authorize_client,
    authorized_keys,
    client_curve,
    ensure_client_keypair,
    ensure_server_curve,
)
from rustg.daemon.errors import TransportError
from rustg.daemon.transport import (
    ServerSockets,
    TcpConfig,
    TrioSocket,
    open_client_sockets,
    open_server_sockets,
)

#: Generous bound for anything that should take milliseconds on loopback.
QUICK_S = 5.0


def run(main: Callable[[], Awaitable[None]], limit: float = 10.0) -> None:
    async def bounded() -> None:
        with trio.fail_after(limit):
            await main()

    trio.run(bounded)


def ipc(tmp_path: Path) -> tuple[str, str]:
    return f"ipc://{tmp_path}/ev.sock", f"ipc://{tmp_path}/rq.sock"


async def echo(router: TrioSocket, *, task_status: trio.TaskStatus[None]) -> None:
    """Reply to every request with b"re:" + its payload (same envelope)."""
    task_status.started()
    while True:
        *envelope, payload = await router.recv_multipart()
        assert router.send_multipart_nowait([*envelope, b"re:" + payload])


async def request(dealer: TrioSocket, payload: bytes, timeout: float = QUICK_S) -> bytes | None:
    assert dealer.send_multipart_nowait([payload])
    with trio.move_on_after(timeout):
        return (await dealer.recv_multipart())[-1]
    return None


async def wait_subscribed(pub: TrioSocket, sub: TrioSocket) -> None:
    """PUB drops everything until the subscription has arrived (zmq's slow joiner): probe."""
    while True:
        pub.send_multipart_nowait([b"probe"])
        with trio.move_on_after(0.02):
            while (await sub.recv_multipart()) != [b"probe"]:
                pass
            return


async def drain_probes(sub: TrioSocket) -> list[bytes]:
    while (frames := await sub.recv_multipart()) == [b"probe"]:
        pass
    return frames


# -- ipc ----------------------------------------------------------------------------------------


def test_ipc_request_reply_and_pub_sub(tmp_path: Path) -> None:
    events, requests = ipc(tmp_path)

    async def main() -> None:
        async with (
            open_server_sockets(events, requests) as server,
            open_client_sockets(events, requests) as (sub, dealer),
            trio.open_nursery() as nursery,
        ):
            assert sub is not None
            assert server.tcp_events is None and server.tcp_requests is None
            for path in (tmp_path / "ev.sock", tmp_path / "rq.sock"):
                assert stat.S_IMODE(path.stat().st_mode) == 0o600
            await nursery.start(echo, server.router)
            assert await request(dealer, b"ping") == b"re:ping"

            await wait_subscribed(server.pub, sub)
            for i in range(3):
                assert server.pub.send_multipart_nowait([b"ev", str(i).encode()])
            assert await drain_probes(sub) == [b"ev", b"0"]
            assert await sub.recv_multipart() == [b"ev", b"1"]
            assert await sub.recv_multipart() == [b"ev", b"2"]
            nursery.cancel_scope.cancel()
        # The socket files go with the server.
        assert not (tmp_path / "ev.sock").exists() and not (tmp_path / "rq.sock").exists()

    run(main)


def test_stale_socket_files_are_replaced(tmp_path: Path) -> None:
    events, requests = ipc(tmp_path)
    (tmp_path / "rq.sock").write_bytes(b"left behind by a killed daemon")

    async def main() -> None:
        async with (
            open_server_sockets(events, requests) as server,
            open_client_sockets(None, requests) as (sub, dealer),
            trio.open_nursery() as nursery,
        ):
            assert sub is None
            await nursery.start(echo, server.router)
            assert await request(dealer, b"x") == b"re:x"
            nursery.cancel_scope.cancel()

    run(main)


# -- edge-triggered FD handling -----------------------------------------------------------------


def test_burst_of_events_is_received_completely(tmp_path: Path) -> None:
    """20,000 events sent back to back without yielding: every one arrives, in order. A lost
    wake-up would show as a stall of ≥ 1 s per loss (the safety net) and trip the bound."""
    events, requests = ipc(tmp_path)
    count = 20_000

    async def main() -> None:
        async with (
            open_server_sockets(events, requests) as server,
            open_client_sockets(events, requests) as (sub, _dealer),
        ):
            assert sub is not None
            await wait_subscribed(server.pub, sub)
            for i in range(count):
                assert server.pub.send_multipart_nowait([i.to_bytes(4, "big")])
            started = time.monotonic()
            first = await drain_probes(sub)
            received = [int.from_bytes(first[0], "big")]
            while len(received) < count:
                received.append(int.from_bytes((await sub.recv_multipart())[0], "big"))
            assert received == list(range(count))
            assert sub.statistics().lost_wakeups == 0
            assert time.monotonic() - started < 0.9

    run(main)


def test_burst_of_requests_is_received_completely(tmp_path: Path) -> None:
    """A DEALER sends up to its high-water mark at once; the ROUTER gets every request."""
    events, requests = ipc(tmp_path)

    async def main() -> None:
        async with (
            open_server_sockets(events, requests) as server,
            open_client_sockets(None, requests) as (_sub, dealer),
            trio.open_nursery() as nursery,
        ):
            await nursery.start(echo, server.router)
            assert await request(dealer, b"warm-up") == b"re:warm-up"
            sent = 0
            while sent < 900 and dealer.send_multipart_nowait([str(sent).encode()]):
                sent += 1
            assert sent == 900  # under the default high-water mark of 1000
            started = time.monotonic()
            replies = [(await dealer.recv_multipart())[-1] for _ in range(sent)]
            assert replies == [b"re:" + str(i).encode() for i in range(sent)]
            assert dealer.statistics().lost_wakeups == 0
            assert server.router.statistics().lost_wakeups == 0
            assert time.monotonic() - started < 0.9
            nursery.cancel_scope.cancel()

    run(main)


def test_send_on_same_socket_does_not_stall_a_sleeping_receiver(tmp_path: Path) -> None:
    """The lost-edge race, staged deterministically.

    A receiver task sleeps on the DEALER's FD. A reply reaches the DEALER while trio is busy
    (time.sleep stands in for a busy loop), which leaves the FD readable; then the busy task
    sends on the same DEALER, and zmq, inside send, processes the pending "message arrived"
    command and clears the FD. Trio's next poll sees nothing. Without the wake-up in
    ``send_multipart_nowait`` the receiver slept until the 1 s safety net (measured 0.98 s);
    with it the reply is picked up at once.
    """
    _events, requests = ipc(tmp_path)
    ctx = zmq.Context()
    peer = ctx.socket(zmq.ROUTER)  # a plain, synchronous peer: it answers while trio is blocked
    peer.setsockopt(zmq.LINGER, 0)
    peer.setsockopt(zmq.RCVTIMEO, int(QUICK_S * 1000))
    peer.bind(requests)

    async def main() -> None:
        async with open_client_sockets(None, requests) as (_sub, dealer):
            assert dealer.send_multipart_nowait([b"hello"])
            identity, _hello = peer.recv_multipart()
            for attempt in range(3):
                received_at: list[float] = []

                async def receive() -> None:
                    await dealer.recv_multipart()
                    received_at.append(time.monotonic())  # noqa: B023

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(receive)
                    await trio.sleep(0.02)  # the receiver is now asleep on the FD
                    sent_at = time.monotonic()
                    peer.send_multipart([identity, b"reply %d" % attempt])
                    time.sleep(0.05)  # the reply lands; trio does not poll meanwhile
                    assert dealer.send_multipart_nowait([b"unrelated request"])
                latency = received_at[0] - sent_at
                assert latency < 0.3, f"receiver stalled {latency:.3f} s"
                assert peer.recv_multipart() == [identity, b"unrelated request"]
            # The race was really staged (not merely a reply that woke the receiver itself),
            # and the safety net never had to fire.
            assert dealer.statistics().woken_by_send >= 1
            assert dealer.statistics().lost_wakeups == 0

    try:
        run(main)
    finally:
        peer.close()
        ctx.term()


def test_closing_a_socket_wakes_its_receiver_with_transport_error(tmp_path: Path) -> None:
    events, requests = ipc(tmp_path)

    async def main() -> None:
        async with (
            open_server_sockets(events, requests),
            open_client_sockets(None, requests) as (_sub, dealer),
        ):
            errors: list[TransportError] = []

            async def receive() -> None:
                try:
                    await dealer.recv_multipart()
                except TransportError as exc:
                    errors.append(exc)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(receive)
                await trio.sleep(0.02)
                started = time.monotonic()
                dealer.close()
            assert len(errors) == 1
            assert time.monotonic() - started < 0.5

    run(main)


# -- CURVE keys ---------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_server_keys_are_created_once_privately(tmp_path: Path) -> None:
    first = ensure_server_curve(tmp_path / "state")
    keys = tmp_path / "state" / "curve"
    assert mode(keys) == 0o700
    assert mode(keys / "server.key_secret") == 0o600
    assert mode(first.authorized_dir) == 0o700
    assert first.authorized_dir == keys / "authorized"
    assert zmq.curve_public(first.secret) == first.public
    # The public certificate holds the public key only, in zmq.auth's format.
    assert zmq.auth.load_certificate(keys / "server.key") == (first.public, None)
    assert b"secret" not in (keys / "server.key").read_bytes().lower().replace(b"**secret**", b"")
    second = ensure_server_curve(tmp_path / "state")
    assert second == first
    assert first.secret.decode() not in repr(first)


def test_secret_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    ensure_server_curve(tmp_path)
    (tmp_path / "curve" / "server.key_secret").chmod(0o644)
    with pytest.raises(TransportError, match="group or others"):
        ensure_server_curve(tmp_path)


def test_corrupt_secret_key_is_refused(tmp_path: Path) -> None:
    ensure_client_keypair(tmp_path)
    (tmp_path / "client.key_secret").write_text('curve\n    public-key = "short"\n')
    with pytest.raises(TransportError, match="not a CURVE key"):
        ensure_client_keypair(tmp_path)


def test_client_keys_default_to_xdg_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    public, secret = ensure_client_keypair()
    directory = tmp_path / "config" / "rustg" / "curve"
    assert mode(directory) == 0o700
    assert mode(directory / "client.key_secret") == 0o600
    assert curve_mod.read_public_key(directory / "client.key") == public
    assert ensure_client_keypair() == (public, secret)


def test_authorize_client_copies_only_the_public_key(tmp_path: Path) -> None:
    server = ensure_server_curve(tmp_path / "state")
    public, secret = ensure_client_keypair(tmp_path / "alice")
    # Handing over the *secret* certificate by mistake still stores only the public key.
    target = authorize_client(
        server.authorized_dir, tmp_path / "alice" / "client.key_secret", "alice"
    )
    assert target == server.authorized_dir / "alice.key"
    assert secret not in target.read_bytes()
    assert authorized_keys(server.authorized_dir) == {public: "alice"}
    with pytest.raises(TransportError, match="client name"):
        authorize_client(server.authorized_dir, tmp_path / "alice" / "client.key", "../evil")
    with pytest.raises(TransportError, match="cannot read"):
        authorize_client(server.authorized_dir, tmp_path / "missing.key", "bob")


def test_authorized_keys_skip_bad_files_and_the_callback_never_raises(tmp_path: Path) -> None:
    server = ensure_server_curve(tmp_path / "state")
    public, _ = ensure_client_keypair(tmp_path / "alice")
    authorize_client(server.authorized_dir, tmp_path / "alice" / "client.key", "alice")
    (server.authorized_dir / "broken.key").write_text("not a certificate\n")
    provider = AuthorizedKeys(server.authorized_dir)
    assert provider.callback("rustg", public)
    assert not provider.callback("rustg", zmq.curve_keypair()[0])
    assert not AuthorizedKeys(tmp_path / "missing").callback("rustg", public)


# -- loopback TCP with CURVE --------------------------------------------------------------------


class Keys:
    def __init__(self, tmp_path: Path) -> None:
        self.server: ServerCurve = ensure_server_curve(tmp_path / "state")
        self.alice: ClientCurve = client_curve(self.server.public, tmp_path / "alice")
        self.mallory: ClientCurve = client_curve(self.server.public, tmp_path / "mallory")
        authorize_client(self.server.authorized_dir, tmp_path / "alice" / "client.key", "alice")


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    return Keys(tmp_path)


@asynccontextmanager
async def tcp_server(
    tmp_path: Path, keys: Keys, host: str = "127.0.0.1"
) -> AsyncIterator[ServerSockets]:
    events, requests = ipc(tmp_path)
    async with (
        open_server_sockets(
            events, requests, tcp=TcpConfig(port=0, curve=keys.server, host=host)
        ) as server,
        trio.open_nursery() as nursery,
    ):
        await nursery.start(echo, server.router)
        yield server
        nursery.cancel_scope.cancel()


async def wait_refused(dealer: TrioSocket) -> str:
    """Wait (bounded) until the DEALER's monitor reports a failed handshake."""
    with trio.fail_after(QUICK_S):
        # The monitor is read without blocking by design (clients ask after a timeout).
        while (error := dealer.handshake_error()) is None:  # noqa: ASYNC110
            await trio.sleep(0.01)
    return error


def test_tcp_curve_round_trip_with_an_authorized_client(tmp_path: Path, keys: Keys) -> None:
    async def main() -> None:
        async with tcp_server(tmp_path, keys) as server:
            assert server.tcp_requests is not None and server.tcp_events is not None
            assert server.tcp_requests.startswith("tcp://127.0.0.1:")
            async with open_client_sockets(
                server.tcp_events, server.tcp_requests, curve=keys.alice
            ) as (sub, dealer):
                assert sub is not None
                assert await request(dealer, b"over tcp") == b"re:over tcp"
                await wait_subscribed(server.pub, sub)
                assert server.pub.send_multipart_nowait([b"event"])
                assert await drain_probes(sub) == [b"event"]
                assert dealer.handshake_error() is None
            # ipc is untouched by TCP: a client without any keys still works there.
            _events, requests = ipc(tmp_path)
            async with open_client_sockets(None, requests) as (_sub, local):
                assert await request(local, b"over ipc") == b"re:over ipc"

    run(main)


def test_unauthorized_client_gets_nothing_while_the_authorized_one_works(
    tmp_path: Path, keys: Keys
) -> None:
    async def main() -> None:
        async with tcp_server(tmp_path, keys) as server:
            assert server.tcp_requests is not None and server.tcp_events is not None
            async with (
                open_client_sockets(server.tcp_events, server.tcp_requests, curve=keys.mallory) as (
                    bad_sub,
                    bad,
                ),
                open_client_sockets(server.tcp_events, server.tcp_requests, curve=keys.alice) as (
                    good_sub,
                    good,
                ),
            ):
                assert bad_sub is not None and good_sub is not None
                assert bad.send_multipart_nowait([b"let me in"])
                assert "refused our CURVE key" in await wait_refused(bad)
                assert await request(good, b"hi") == b"re:hi"
                await wait_subscribed(server.pub, good_sub)
                assert server.pub.send_multipart_nowait([b"secret event"])
                assert await drain_probes(good_sub) == [b"secret event"]
                # Nothing reached the refused client, on either socket.
                with trio.move_on_after(0.3):
                    await bad.recv_multipart()
                    pytest.fail("an unauthorized client got a reply")
                with trio.move_on_after(0.05):
                    await bad_sub.recv_multipart()
                    pytest.fail("an unauthorized client got an event")

    run(main)


def test_authorizing_and_revoking_need_no_restart(tmp_path: Path, keys: Keys) -> None:
    async def main() -> None:
        async with tcp_server(tmp_path, keys) as server:
            assert server.tcp_requests is not None
            async with open_client_sockets(None, server.tcp_requests, curve=keys.mallory) as (
                _,
                dealer,
            ):
                dealer.send_multipart_nowait([b"before"])
                await wait_refused(dealer)
            authorize_client(keys.server.authorized_dir, tmp_path / "mallory" / "client.key", "m")
            async with open_client_sockets(None, server.tcp_requests, curve=keys.mallory) as (
                _,
                dealer,
            ):
                assert await request(dealer, b"after") == b"re:after"
            (keys.server.authorized_dir / "m.key").unlink()
            async with open_client_sockets(None, server.tcp_requests, curve=keys.mallory) as (
                _,
                dealer,
            ):
                dealer.send_multipart_nowait([b"revoked"])
                await wait_refused(dealer)

    run(main)


def test_wrong_server_key_gets_no_reply_and_says_why(tmp_path: Path, keys: Keys) -> None:
    impostor = ClientCurve(
        server_public=zmq.curve_keypair()[0], public=keys.alice.public, secret=keys.alice.secret
    )

    async def main() -> None:
        async with tcp_server(tmp_path, keys) as server:
            assert server.tcp_requests is not None
            async with open_client_sockets(None, server.tcp_requests, curve=impostor) as (
                _,
                dealer,
            ):
                assert await request(dealer, b"hello?", timeout=0.3) is None
                assert "wrong daemon key" in await wait_refused(dealer)

    run(main)


def test_tcp_without_curve_is_refused_by_the_client() -> None:
    async def main() -> None:
        with pytest.raises(TransportError, match="need CURVE keys"):
            async with open_client_sockets(None, "tcp://127.0.0.1:9"):
                pass

    run(main)


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "*", "::", "192.0.2.7", "localhost", "example.org", "[2001:db8::1]"]
)
def test_non_loopback_bind_is_refused(tmp_path: Path, keys: Keys, host: str) -> None:
    events, requests = ipc(tmp_path)

    async def main() -> None:
        with pytest.raises(TransportError, match="loopback"):
            async with open_server_sockets(
                events, requests, tcp=TcpConfig(port=0, curve=keys.server, host=host)
            ):
                pytest.fail("bound a non-loopback address")
        assert not (tmp_path / "rq.sock").exists()  # refused before anything was bound

    run(main)


def test_fixed_port_uses_port_and_port_plus_one(tmp_path: Path, keys: Keys) -> None:
    with socket.socket() as probe:  # a free port, and (checked below) the next one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    if port >= 65534:
        pytest.skip("the OS handed out the last port")
    events, requests = ipc(tmp_path)

    async def main() -> None:
        tcp = TcpConfig(port=port, curve=keys.server)
        async with open_server_sockets(events, requests, tcp=tcp) as server:
            assert server.tcp_requests == f"tcp://127.0.0.1:{port}"
            assert server.tcp_events == f"tcp://127.0.0.1:{port + 1}"
        with pytest.raises(TransportError, match=r"1\.\.65534"):
            async with open_server_sockets(
                events, requests, tcp=TcpConfig(port=65535, curve=keys.server)
            ):
                pass

    try:
        run(main)
    except TransportError as exc:  # port + 1 was taken by something else on this machine
        if "Address already in use" not in str(exc):
            raise
        pytest.skip(str(exc))


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback here")
def test_ipv6_loopback(tmp_path: Path, keys: Keys) -> None:
    async def main() -> None:
        async with tcp_server(tmp_path, keys, host="::1") as server:
            assert server.tcp_requests is not None
            assert server.tcp_requests.startswith("tcp://[::1]:")
            async with open_client_sockets(None, server.tcp_requests, curve=keys.alice) as (
                _,
                dealer,
            ):
                assert await request(dealer, b"v6") == b"re:v6"

    run(main)


def test_server_key_files_exist_for_remote_clients(tmp_path: Path, keys: Keys) -> None:
    """What docs/remote.md tells a user to copy is where it says, and it is enough."""
    cert = curve_mod.server_public_cert(tmp_path / "state")
    assert client_curve(cert, tmp_path / "alice") == keys.alice
    assert os.access(cert, os.R_OK)
