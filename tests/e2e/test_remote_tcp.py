"""Loopback TCP with CURVE, end to end: only authorized client keys get answers."""

from __future__ import annotations

import json
import socket

import pytest

from tests.e2e.conftest import DaemonHarness

pytestmark = pytest.mark.slow


def free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as a, socket.socket() as b:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            try:
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return int(port)
    raise RuntimeError("no free pair of ports")


def test_tcp_clients_need_an_authorized_key(example_daemon: DaemonHarness) -> None:
    h = example_daemon
    port = free_port_pair()
    (h.workspace / "rustg.toml").write_text(f"[daemon]\ntcp_port = {port}\n")
    h.env["XDG_CONFIG_HOME"] = str(h.workspace.parent / "config-me")
    h.start()
    tcp = f"127.0.0.1:{port}"
    info = json.loads(h.run("rustgd", "status", "--json").stdout)["daemon"]
    assert info["tcp_requests"] == f"tcp://{tcp}" and info["curve_server_key"]

    keys = json.loads(h.run("rustgd", "keys", "--json").stdout)
    refused = h.run("rustgd", "status", "--tcp", tcp)
    assert refused.returncode == 3 and "refused" in refused.stderr

    authorized = h.run("rustgd", "authorize-client", keys["client_cert"], "--name", "me")
    assert authorized.returncode == 0, authorized.stderr
    status = h.run("rustgd", "status", "--json", "--tcp", tcp)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["daemon"]["pid"] == info["pid"]
    once = h.run("rg-watch", "--once", "--json", "--tcp", tcp)
    assert once.returncode == 0 and json.loads(once.stdout)["jobs"]["check"] == "succeeded"

    # Another user's key (another config dir) is still refused.
    other = dict(h.env, XDG_CONFIG_HOME=str(h.workspace.parent / "config-other"))
    stranger = DaemonHarness(h.workspace, other).run("rustgd", "status", "--tcp", tcp)
    assert stranger.returncode == 3
