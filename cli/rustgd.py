"""``rustgd``: run, start, stop and inspect the workspace daemon; install it as a user service."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec
import trio
from rich.console import Console

from rustg import protocol as p
from rustg.daemon.config import load_config
from rustg.daemon.errors import AlreadyRunning
from rustg.daemon.lock import is_locked, read_lock_pid
from rustg.daemon.service import Daemon
from rustg.daemon.threads import threads_in_flight
from rustg.daemon.workspace import WorkspacePaths

from .daemon_client import (
    add_tcp_options,
    open_daemon_client,
    query_status,
    resolve_paths,
    running_daemon,
    use_tcp,
)
from .errors import EXIT_FAILURE, EXIT_NO_DAEMON, EXIT_OK, CliError, NoDaemon, main_wrapper

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rustgd", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help)
        cmd.add_argument(
            "--workspace", metavar="DIR", help="workspace root (default: around the cwd)"
        )
        return cmd

    run = add("run", "run the daemon in the foreground")
    run.add_argument("-v", "--verbose", action="store_true")
    add("start", "start the daemon in the background; returns once it is ready")
    add("stop", "stop the daemon")
    status = add("status", "exit 0 if the daemon is running and healthy")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    add_tcp_options(status)
    keys = add("keys", "CURVE keys for TCP clients: the daemon's, yours, the authorized ones")
    keys.add_argument("--json", action="store_true")
    authorize = add("authorize-client", "allow a client's CURVE public key over TCP")
    authorize.add_argument("cert", help="the client's public certificate (client.key)")
    authorize.add_argument("--name", required=True, help="a name for this client")
    install = add("install-service", "install and enable a systemd user unit for the workspace")
    install.add_argument("--no-enable", action="store_true", help="only write the unit file")
    return parser


def cmd_run(paths: WorkspacePaths, verbose: bool) -> int:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    config = load_config(paths.root)
    daemon = Daemon(paths, config)
    try:
        trio.run(daemon.serve)
    except AlreadyRunning as exc:
        raise CliError(f"{exc}; use `rustgd stop` first", EXIT_FAILURE) from None
    if abandoned := threads_in_flight():
        # A worker abandoned mid numba compile would crash interpreter teardown (LLVM asserts
        # when its state is freed under it). Committed LMDB state is already durable.
        logging.getLogger("rustgd").info("exiting with %d abandoned worker thread(s)", abandoned)
        logging.shutdown()
        os._exit(EXIT_OK)
    return EXIT_OK


def cmd_start(paths: WorkspacePaths, console: Console) -> int:
    if (status := running_daemon(paths)) is not None:
        console.print(f"rustgd already running for {paths.root} (pid {status.daemon.pid})")
        return EXIT_OK
    load_config(paths.root)  # fail here, visibly, rather than in the background
    paths.ensure()
    log = paths.log_file.open("ab")
    child = subprocess.Popen(
        [sys.executable, "-m", "rustg.cli.rustgd", "run", "--workspace", str(paths.root)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
        cwd=paths.root,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if child.poll() is not None:
            tail = paths.log_file.read_text(errors="replace").splitlines()[-15:]
            raise CliError("rustgd exited during start-up:\n" + "\n".join(tail))
        # The daemon takes its lock before it writes its info file.
        if paths.info_file.exists() and (status := running_daemon(paths)) is not None:
            console.print(f"rustgd started for {paths.root} (pid {status.daemon.pid})")
            return EXIT_OK
        time.sleep(0.05)
    child.terminate()
    raise CliError(
        f"rustgd did not become ready within {START_TIMEOUT_S:g} s; see {paths.log_file}"
    )


@contextmanager
def lock_holder(pid: int, lock: Path | None) -> Iterator[Callable[[int], None] | None]:
    """A way to signal ``pid`` while it is still the daemon holding ``lock`` (the lock held,
    its file naming ``pid``), or None when it is not. The pid was read earlier: the daemon may
    have exited since and the pid gone to an unrelated process. A pidfd pins the process
    before the check, so the check and the signal are about the same one (without pidfds,
    an old kernel, the check alone narrows the window). ``lock=None``: no check (tests)."""
    try:
        pidfd: int | None = os.pidfd_open(pid)
    except ProcessLookupError:
        yield None
        return
    except (AttributeError, OSError):
        pidfd = None

    def send(signum: int) -> None:
        try:
            if pidfd is not None:
                signal.pidfd_send_signal(pidfd, signum)
            else:
                os.kill(pid, signum)
        except ProcessLookupError:
            pass  # exited meanwhile: what we wanted

    try:
        if lock is not None and (not is_locked(lock) or read_lock_pid(lock) != pid):
            yield None
        else:
            yield send
    finally:
        if pidfd is not None:
            os.close(pidfd)


def kill_with_tools(pid: int, lock: Path | None = None) -> None:
    """SIGKILL a daemon that did not stop in time, and the tools it ran. They run in their own
    process groups (so a superseded check can be killed whole); a daemon that cannot clean up
    after itself would leave them running (a 30 s cargo test, a rustc) as orphans. Nothing is
    killed unless ``pid`` still holds ``lock`` (see ``lock_holder``)."""
    with lock_holder(pid, lock) as send:
        if send is None:
            return
        groups = child_process_groups(pid)  # before the kill: then they are init's children
        send(signal.SIGKILL)
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    time.sleep(0.2)


def child_process_groups(pid: int) -> list[int]:
    """The process groups that ``pid``'s children lead (Linux /proc; none elsewhere)."""
    groups = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # exited meanwhile
        child = int(stat.parent.name)
        if int(fields[1]) == pid and int(fields[2]) == child:
            groups.append(child)
    return groups


def cmd_stop(paths: WorkspacePaths, console: Console) -> int:
    if not is_locked(paths.lock_file):
        console.print(f"rustgd is not running for {paths.root}")
        return EXIT_OK
    pid = read_lock_pid(paths.lock_file)

    async def ask() -> None:
        async with open_daemon_client(paths) as client:
            await client.request(p.Shutdown(), timeout=2.0)

    try:
        trio.run(ask)
    except (NoDaemon, CliError):
        if pid:  # not answering: fall back to signals (to the daemon, not a reused pid)
            with lock_holder(pid, paths.lock_file) as send:
                if send is not None:
                    send(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while is_locked(paths.lock_file):
        if time.monotonic() > deadline:
            if pid:
                kill_with_tools(pid, paths.lock_file)
            break
        time.sleep(0.05)
    console.print(f"rustgd stopped for {paths.root}")
    return EXIT_OK


def cmd_status(paths: WorkspacePaths, console: Console, as_json: bool) -> int:
    try:
        status = trio.run(query_status, paths)
    except NoDaemon as exc:
        if as_json:
            print(json.dumps({"running": False, "workspace": str(paths.root), "why": str(exc)}))
        else:
            console.print(f"rustgd is not running for {paths.root}")
            Console(stderr=True, highlight=False).print(f"rustgd: {exc}", markup=False)
        return EXIT_NO_DAEMON
    if as_json:
        print(json.dumps({"running": True, **msgspec.to_builtins(status)}))
    else:
        info = status.daemon
        state = "healthy" if status.healthy else "UNHEALTHY: " + "; ".join(status.problems)
        console.print(
            f"rustgd {info.version} pid {info.pid} for {info.workspace}: {state}\n"
            f"  generation {status.generation}, {status.files} files, "
            f"{'busy' if status.busy else 'idle'}, {status.rss_bytes / 2**20:.1f} MiB resident"
        )
    return EXIT_OK if status.healthy else EXIT_FAILURE


def cmd_install_service(paths: WorkspacePaths, console: Console, enable: bool) -> int:
    from rustg.daemon.systemd import default_rustgd_path, install_service

    # The rustgd of this very installation (its venv), not whichever one PATH finds first.
    result = install_service(paths.root, rustgd_path=default_rustgd_path(), enable=enable)
    console.print(result.message)
    return EXIT_OK if result.enabled or not enable else EXIT_FAILURE


def cmd_keys(paths: WorkspacePaths, console: Console, as_json: bool) -> int:
    from rustg.daemon.curve import (
        authorized_dir,
        authorized_keys,
        client_public_cert,
        ensure_client_keypair,
        server_public_cert,
    )

    ensure_client_keypair()
    doc = {
        "server_cert": str(server_public_cert(paths.state_dir)),
        "client_cert": str(client_public_cert()),
        "authorized": sorted(authorized_keys(authorized_dir(paths.state_dir)).values()),
    }
    if as_json:
        print(json.dumps(doc, indent=2))
    else:
        console.print(f"daemon public key: {doc['server_cert']} (give it to TCP clients)")
        console.print(f"your client key:   {doc['client_cert']} (authorize it on the daemon)")
        console.print(f"authorized:        {', '.join(doc['authorized']) or '(none)'}")
    return EXIT_OK


def cmd_authorize(paths: WorkspacePaths, console: Console, cert: str, name: str) -> int:
    from rustg.daemon.curve import authorize_client, authorized_dir

    written = authorize_client(authorized_dir(paths.state_dir), Path(cert), name)
    console.print(f"authorized {name!r}: {written} (effective for new connections)")
    return EXIT_OK


def run(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "status":
        use_tcp(args.tcp, args.server_key)
    console = Console(highlight=False)
    paths = resolve_paths(args.workspace)
    match args.command:
        case "run":
            return cmd_run(paths, args.verbose)
        case "start":
            return cmd_start(paths, console)
        case "stop":
            return cmd_stop(paths, console)
        case "status":
            return cmd_status(paths, console, args.json)
        case "install-service":
            return cmd_install_service(paths, console, not args.no_enable)
        case "keys":
            return cmd_keys(paths, console, args.json)
        case "authorize-client":
            return cmd_authorize(paths, console, args.cert, args.name)
    raise AssertionError(args.command)


def main() -> None:
    main_wrapper("rustgd", run)


if __name__ == "__main__":
    main()
