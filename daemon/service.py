"""The daemon: one root nursery that owns every task.

    serve()
    ├── request server   ROUTER: hello, snapshot, status, run-job, shutdown, ping
    ├── watcher          watchdog → debounce → BLAKE3 → change sets
    ├── scheduler        change sets → generations → file jobs + cargo check
    ├── heartbeat        lets idle clients notice gaps and liveness
    ├── stall watch      logs where the loop is stuck when it stops turning
    └── signals          SIGTERM/SIGINT → graceful shutdown

Services are started with ``nursery.start`` in dependency order; once all have signalled
readiness the daemon writes ``daemon.json``, tells systemd READY=1 and reports ``task_status``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import time
from importlib import metadata
from pathlib import Path

import msgspec
import trio

from rustg import protocol as p

from .config import Config
from .curve import ensure_server_curve
from .engine_job import SOURCE as ENGINE_SOURCE
from .engine_job import ParseJob
from .errors import DaemonError, StoreError
from .fmt_job import FMT_JOB, FmtJob
from .fmt_job import SOURCE as FMT_SOURCE
from .kernels.job import SOURCE as KERNEL_SOURCE
from .kernels.job import KernelJob
from .lint_job import LINT_JOB, LintJob
from .lint_job import SOURCE as LINT_SOURCE
from .lock import WorkspaceLock
from .publisher import Publisher
from .scheduler import KERNELS_JOB, PARSE_JOB, Scheduler
from .stall import StallWatch
from .store import OpenOutcome, Store
from .systemd import notify_ready, notify_stopping
from .threads import threads_in_flight
from .tool_groups import ToolGroups
from .transport import ServerSockets, TcpConfig, open_server_sockets
from .watcher import ChangeSet, IgnoreRules, Watcher
from .workspace import WorkspacePaths

log = logging.getLogger("rustgd")


def daemon_version() -> str:
    try:
        return metadata.version("rustg-devtools")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def rss_bytes() -> int:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class Daemon:
    def __init__(self, paths: WorkspacePaths, config: Config) -> None:
        self.paths = paths
        self.config = config
        self.store_limiter = trio.CapacityLimiter(1)
        self.info = p.DaemonInfo(
            version=daemon_version(),
            protocol=p.PROTOCOL_VERSION,
            pid=os.getpid(),
            workspace=str(paths.root),
            workspace_id=paths.id,
            epoch=secrets.token_hex(8),
            started_at=time.time(),
            pub_endpoint=paths.events_endpoint,
            requests_endpoint=paths.requests_endpoint,
        )
        self.store: Store | None = None
        self.publisher: Publisher | None = None
        self.watcher: Watcher | None = None
        self.scheduler: Scheduler | None = None
        self.fmt_job: FmtJob | None = None  # also serves `format` requests
        self._changes_send, self._changes_recv = trio.open_memory_channel[ChangeSet](256)
        self._shutdown = trio.Event()
        self.problems: list[str] = []
        self.stall_watch = StallWatch()

    # -- state -----------------------------------------------------------------------------------

    @property
    def state(self) -> p.WorkspaceState:
        assert self.publisher is not None
        return self.publisher.state

    def pending(self) -> int:
        # The watcher counts saves from the first event until their generation has started
        # (debounce, hashing, the hand-over to us): none is ever invisible to a client.
        return self.watcher.pending if self.watcher is not None else 0

    def _restore(self, store: Store) -> p.WorkspaceState:
        generation, seq = store.counters()
        state = p.WorkspaceState(epoch=self.info.epoch, seq=seq, generation=generation)
        restored = [msgspec.structs.replace(d, stale=True) for d in store.load_diagnostics()]
        by_source: dict[str, dict[str, list[p.Diagnostic]]] = {}
        for diag in restored:
            by_source.setdefault(diag.source, {}).setdefault(diag.file, []).append(diag)
        for source, files in by_source.items():
            gen = max(d.generation for ds in files.values() for d in ds)
            state.apply(
                p.DiagnosticsPublished(
                    seq=state.seq, epoch=state.epoch, source=source, generation=gen, files=files
                )
            )
        if restored:
            log.info("restored %d diagnostics from the previous run", len(restored))
        return state

    # -- requests --------------------------------------------------------------------------------

    async def handle(self, request: p.AnyRequest) -> p.AnyReply:
        match request:
            case p.Hello():
                return p.Welcome(id=request.id, daemon=self.info)
            case p.Ping():
                return p.Pong(id=request.id, time=time.time())
            case p.SnapshotRequest():
                self.state.pending = self.pending()
                return self.state.to_snapshot(request.id)
            case p.StatusRequest():
                return self.status(request.id)
            case p.RunJob(job=job):
                if job not in ("check", "all"):
                    return p.ErrorReply(
                        id=request.id, code="unknown-job", message=f"unknown job {job!r}"
                    )
                assert self.scheduler is not None
                generation = self.scheduler.request_check()
                return p.JobAccepted(id=request.id, job=job, generation=generation)
            case p.FormatRequest():
                if self.fmt_job is None:
                    return p.ErrorReply(id=request.id, code="not-ready", message="starting up")
                return await self.fmt_job.format(request)
            case p.Shutdown():
                self._shutdown.set()
                return p.ShutdownAck(id=request.id)
        raise AssertionError(f"unhandled request {request!r}")  # pragma: no cover

    def status(self, request_id: int = 0) -> p.StatusReply:
        problems = list(self.problems)
        if self.watcher is not None and not self.watcher.healthy:
            problems.append("file watcher is restarting")
        self.state.pending = self.pending()
        return p.StatusReply(
            id=request_id,
            daemon=self.info,
            healthy=not problems,
            seq=self.state.seq,
            generation=self.state.generation,
            files=len(self.watcher.known) if self.watcher else 0,
            pending=self.state.pending,
            busy=self.state.busy,
            rss_bytes=rss_bytes(),
            problems=problems,
        )

    async def serve_requests(
        self,
        sockets: ServerSockets,
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        task_status.started()
        while True:
            frames = await sockets.router.recv_multipart()
            identity, payload = frames[0], frames[-1]
            if len(frames) < 2 or len(frames) > 3 or (len(frames) == 3 and frames[1] != b""):
                reply: p.AnyReply = p.ErrorReply(
                    code="bad-frame", message=f"expected one payload frame, got {len(frames) - 1}"
                )
            else:
                try:
                    request = p.decode_request(payload)
                except p.ProtocolError as exc:
                    log.warning("bad request frame: %s", exc)
                    reply = p.ErrorReply(code=exc.code, message=str(exc))
                else:
                    try:
                        reply = await self.handle(request)
                    except DaemonError as exc:
                        reply = p.ErrorReply(id=request.id, code="daemon-error", message=str(exc))
            envelope = (
                [identity, b"", p.encode(reply)]
                if len(frames) == 3
                else [identity, p.encode(reply)]
            )
            sockets.router.send_multipart_nowait(envelope)

    async def heartbeat(self) -> None:
        assert self.publisher is not None
        while True:
            await trio.sleep(self.config.heartbeat_s)
            self.publisher.heartbeat(self.pending())

    async def watch_signals(self) -> None:
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for signum in signals:
                log.info("received %s, shutting down", signal.Signals(signum).name)
                self._shutdown.set()

    # -- the root nursery ------------------------------------------------------------------------

    async def serve(
        self, *, task_status: trio.TaskStatus[p.DaemonInfo] = trio.TASK_STATUS_IGNORED
    ) -> None:
        self.paths.ensure()
        with WorkspaceLock(self.paths.lock_file):
            # Left by a daemon that was killed: it must not make us look ready too early; nor
            # may its orphaned cargo keep the build directory locked.
            self.paths.info_file.unlink(missing_ok=True)
            ToolGroups(self.paths.runtime_dir / "tools").kill_orphans()
            store = await trio.to_thread.run_sync(Store, self.paths.db_dir)
            self.store = store
            try:
                if store.outcome is OpenOutcome.WIPED:
                    log.warning("state store had another schema version; starting afresh")
                await self._serve_locked(store, task_status)
            finally:
                self.paths.info_file.unlink(missing_ok=True)
                if threads_in_flight() == 0:
                    store.close()
                # else: an abandoned engine thread may still use the environment; LMDB's
                # committed state is durable, and process exit releases the rest.

    async def _serve_locked(self, store: Store, task_status: trio.TaskStatus[p.DaemonInfo]) -> None:
        state = await trio.to_thread.run_sync(self._restore, store)
        publisher = Publisher(state, store, self.store_limiter)
        self.publisher = publisher
        tcp = None
        if self.config.tcp_port:
            server_curve = await trio.to_thread.run_sync(ensure_server_curve, self.paths.state_dir)
            tcp = TcpConfig(
                port=self.config.tcp_port, curve=server_curve, host=self.config.tcp_host
            )
        async with (
            open_server_sockets(
                self.paths.events_endpoint, self.paths.requests_endpoint, tcp=tcp
            ) as sockets,
            trio.open_nursery() as nursery,
        ):
            publisher.attach(lambda frame: sockets.pub.send_multipart_nowait([frame]))
            known = await trio.to_thread.run_sync(store.file_hashes)
            self.watcher = Watcher(
                self.paths.root,
                IgnoreRules(self.paths.root, self.config.ignore, self.paths.state_dir),
                debounce_s=self.config.debounce_ms / 1000,
                known=known,
                on_changes=self._changes_send,
                on_notice=publisher.notice,
            )
            restored_kernel_files = set(state.diagnostics.get(KERNEL_SOURCE, {}))
            self.fmt_job = FmtJob(self.paths.root, env=store.env)
            parse_job = self._parse_job(store)
            self.scheduler = Scheduler(
                root=self.paths.root,
                target_dir=self.paths.target_dir,
                config=self.config,
                publisher=publisher,
                nursery=nursery,
                pending=self.pending,
                tools=ToolGroups(self.paths.runtime_dir / "tools"),
                file_jobs={
                    PARSE_JOB: (ENGINE_SOURCE, parse_job),
                    # after parse: it reads the parse job's hot workspace
                    LINT_JOB: (
                        LINT_SOURCE,
                        LintJob(self.paths.root, parse_job=parse_job, env=store.env),
                    ),
                    FMT_JOB: (FMT_SOURCE, self.fmt_job),
                    KERNELS_JOB: (
                        KERNEL_SOURCE,
                        KernelJob(self.paths, reported=restored_kernel_files),
                    ),
                },
            )
            # Requests are served only once there is a scheduler to take run-job requests.
            nursery.start_soon(self.watch_signals)
            nursery.start_soon(self.stall_watch.run)
            await nursery.start(self.serve_requests, sockets)
            nursery.start_soon(self._persist_hashes_and_schedule)
            await nursery.start(self.watcher.run)
            nursery.start_soon(self.heartbeat)
            if tcp is not None:
                self.info = msgspec.structs.replace(
                    self.info,
                    tcp_requests=sockets.tcp_requests,
                    tcp_events=sockets.tcp_events,
                    curve_server_key=tcp.curve.public.decode(),
                )
            _write_atomic(self.paths.info_file, msgspec.json.encode(self.info))
            notify_ready(f"watching {self.paths.root}")
            log.info(
                "rustgd %s ready: %s (pid %d)", self.info.version, self.paths.root, os.getpid()
            )
            task_status.started(self.info)
            await self._shutdown.wait()
            log.info("shutting down")
            notify_stopping()  # systemd shows "deactivating" from now, not after cleanup
            nursery.cancel_scope.cancel()

    def _parse_job(self, store: Store) -> ParseJob:
        watcher = self.watcher
        assert watcher is not None
        return ParseJob(self.paths.root, env=store.env, all_files=lambda: watcher.known)

    async def _persist_hashes_and_schedule(self) -> None:
        """Between watcher and scheduler: record new hashes (one transaction), then schedule."""
        assert self.scheduler is not None and self.store is not None
        store = self.store
        async for change_set in self._changes_recv:
            try:
                await trio.to_thread.run_sync(
                    store.update_files, change_set.changed, limiter=self.store_limiter
                )
            except StoreError as exc:  # disk full, map full: keep serving, say so
                self._store_problem(exc)
            try:
                await self.scheduler.submit(
                    change_set.changed,
                    reason=change_set.reason.value,
                    on_started=self.watcher.handed_over if self.watcher else None,
                )
            except StoreError as exc:
                self._store_problem(exc)

    def _store_problem(self, exc: StoreError) -> None:
        message = f"state store failed: {exc}"
        log.error(message)
        if message not in self.problems:
            self.problems.append(message)
        assert self.publisher is not None
        self.publisher.notice("error", message, kind="store-error")


def read_daemon_info(paths: WorkspacePaths) -> p.DaemonInfo | None:
    try:
        return msgspec.json.decode(paths.info_file.read_bytes(), type=p.DaemonInfo)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None


def describe_info(info: p.DaemonInfo) -> str:
    return json.dumps(msgspec.to_builtins(info), indent=2)
