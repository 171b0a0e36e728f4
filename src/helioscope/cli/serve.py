"""``helioscope serve``: the gateway, the API and the UI on one port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from helioscope._outage import through_outages
from helioscope.cli._gc import freeze_startup
from helioscope.cli._logs import log_to_stderr
from helioscope.cli._memory import tune_malloc
from helioscope.cli._store import announce, note, store_errors
from helioscope.config import Settings
from helioscope.services import journal_dir
from helioscope.store import Store

if TYPE_CHECKING:  # imported when serving: the other commands start faster without it
    import uvicorn

    from helioscope.services import Services
    from helioscope.store.clickhouse._serve import ChdbServer


async def _announce(settings: Settings) -> None:
    store = Store.open(
        settings.database_url,
        _clickhouse_server(settings),  # (migrated with the store, as a worker would)
        clickhouse_cluster=settings.clickhouse_cluster,
        log_retention_days=settings.log_retention_days,
    )

    async def steps() -> None:  # (run again after an outage: the store is named once, before)
        await announce(store, named=False)
        # Before the workers start, so that they do not race to migrate; and before the app,
        # so that a store that cannot be created or opened is told in one line here, not as
        # the app's failed startup (a traceback).
        await store.migrate()

    note(f"store: {store.location}")
    try:
        with store_errors(store):
            # Started during an outage (or meeting one here), the server comes up when the
            # store does.
            await through_outages(store, steps, note)
            if settings.clickhouse_url is not None:  # the log is there, not in the store above
                # Imported here: ClickHouse's client is an extra (helioscope[clickhouse]).
                from helioscope.store.clickhouse._url import ClickHouseUrl

                note(f"log: ClickHouse {ClickHouseUrl.parse(settings.clickhouse_url).redacted()}")
            # Named absolute: by default it is relative to the cwd for PostgreSQL and ClickHouse.
            note(f"journal: {journal_dir(settings, store).resolve()}")
    finally:
        await store.close()


def _clickhouse_server(settings: Settings) -> str | None:
    """The ClickHouse server that keeps the log, if one does (to wait for it, as for the store).

    Waited for here, before the server or its workers start: down at start, it failed each
    worker's startup with a traceback, and ``--workers`` restarted them again and again. An
    embedded chdb is never down, and is opened by the process that serves (one process may).
    """
    if settings.clickhouse_url is None:
        return None
    # Imported here: ClickHouse's client is an extra (helioscope[clickhouse]).
    from helioscope.store.clickhouse._url import ClickHouseUrl

    url = settings.clickhouse_url
    return url if ClickHouseUrl.parse(url).kind == "http" else None


class _ChdbToServe:
    """An embedded ClickHouse this process serves to the other workers (``cli._workers``)."""

    def __init__(self, clickhouse_url: str | None, fd: int) -> None:
        from helioscope.cli._workers import CHDB_PASSWORD
        from helioscope.store.clickhouse._url import ClickHouseUrl

        if clickhouse_url is None or (url := ClickHouseUrl.parse(clickhouse_url)).path is None:
            raise typer.BadParameter("--clickhouse-fd serves HELIOSCOPE_CLICKHOUSE_URL=chdb://…")
        self.path = url.path
        self.sock = socket.socket(fileno=fd)
        self.password = os.environ.pop(CHDB_PASSWORD, "")
        if not self.password:
            raise typer.BadParameter(f"--clickhouse-fd needs {CHDB_PASSWORD} in the environment")
        self.server: ChdbServer | None = None

    def start(self) -> None:
        from helioscope.store.clickhouse._serve import ChdbServer

        self.server = ChdbServer(self.path, self.sock, self.password)

    def stop(self) -> None:
        if self.server is not None:
            self.server.close()


class _Quiesce:
    """Whether the supervisor of ``--workers`` said to stop taking calls (``cli._workers``).

    It says so by closing its end of a pipe whose other end this process inherited.
    """

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self.fd: int | None = fd

    @classmethod
    def inherited(cls) -> _Quiesce | None:
        """The pipe's end this process was given (worker 0 of ``serve --workers``), if any."""
        from helioscope.cli._workers import QUIESCE_FD

        fd = os.environ.pop(QUIESCE_FD, None)  # (not handed on to what the server runs)
        return None if fd is None else cls(int(fd))

    def _asked(self) -> bool:
        """Closed by the supervisor, now or before (or the supervisor is gone)."""
        if self.fd is None:
            return False  # (asked before, and done)
        try:
            ended = os.read(self.fd, 1) == b""
        except BlockingIOError:  # open, and nothing written: not asked
            return False
        if ended:
            os.close(self.fd)
            self.fd = None
        return ended

    def follow(self, server: uvicorn.Server) -> None:
        """Once asked: readiness answers 503, and ``server`` takes no more calls.

        uvicorn's shutdown's first steps: stop accepting (the listening socket is closed once
        no process has it open, so connections are refused, not held in its backlog), and
        close idle keep-alive connections (busy ones close after their response).
        """
        if not self._asked():
            return
        app: Any = server.config.app
        app.state.services.stopping = True
        for listening in server.servers:
            listening.close()
        for connection in list(server.server_state.connections):
            connection.shutdown()


def _server(
    config: uvicorn.Config,
    *,
    prices: bool,
    chdb: _ChdbToServe | None = None,
    quiet: bool = False,
    quiesce: _Quiesce | None = None,
) -> uvicorn.Server:
    """A server that freezes startup's objects once it is up (``cli._gc``).

    With ``chdb``, it also starts serving its embedded ClickHouse then: after the app's
    startup has migrated the log, so that the other workers, whose first queries wait in the
    socket's backlog, find it current. ``quiet``: without uvicorn's "running on" line. Once
    ``quiesce`` is asked, it takes no more calls, as uvicorn's shutdown would, but runs on.
    """
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, then ``freeze_startup`` once it has started."""

        async def on_tick(self, counter: int) -> bool:
            if quiesce is not None:
                quiesce.follow(self)
            return await super().on_tick(counter)

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                if chdb is not None:
                    chdb.start()
                await freeze_startup(prices=prices)

        def _log_started_message(self, listeners: Sequence[socket.SocketType]) -> None:
            if not quiet:
                super()._log_started_message(listeners)

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            app: Any = self.config.app
            services = app.state.services
            if services.preparing:
                _stop_while_starting()
            # Readiness answers 503 from now on (api/health), while the calls in flight finish.
            services.stopping = True
            super().handle_exit(sig, frame)

    return Server(config)


def _listen(settings: Settings, *, inheritable: bool) -> socket.socket:
    """The server's socket, bound (the server listens on it).

    One line and exit 1 when the port cannot be had.
    """
    from helioscope.cli._workers import bound

    try:
        return bound(settings.host, settings.port, inheritable=inheritable)
    except OSError as exc:
        note(f"error: cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}")
        raise typer.Exit(1) from None


def _sockets(listener: socket.socket | None, fd: int | None) -> list[socket.socket] | None:
    """What uvicorn serves on: the socket bound before the store, or the inherited one.

    An inherited socket is handed over as a socket object whose family is read from the fd:
    uvicorn's own ``fd=`` takes it for a Unix socket, and the event loop then leaves Nagle on
    for its TCP connections, so every response's body waited behind its head for the client's
    delayed ACK (~40 ms a call with --workers). None: uvicorn binds (the writer's own process).
    """
    if listener is not None:
        return [listener]
    return None if fd is None else [socket.socket(fileno=fd)]


def _stop_while_starting() -> None:
    """Exit at once: told to stop while startup migrates and bootstraps (waiting for the store).

    uvicorn only notes the signal and lets the startup run on, so a worker of ``--workers``
    that waited for a store still down went on waiting until its supervisor killed it
    (``HELIOSCOPE_SHUTDOWN_DRAIN_SECONDS`` + 15 s later). Nothing of it needs draining then:
    it accepts calls only once started, and its writer, webhooks and the rest start after
    this step (``Services.running``). Ending the startup another way (an exception, a
    cancellation) has uvicorn print it as a failed startup, with a traceback.
    """
    # In a signal handler: os.write, not print (a handler that interrupted a write to stderr
    # would raise "reentrant call" there); stdout flushed if it can be (a bootstrap key).
    os.write(2, b"helioscope: stopped while starting\n")
    with contextlib.suppress(Exception):  # (reentrant, or a pipe closed: exit all the same)
        sys.stdout.flush()
    os._exit(0)


def _claim_journal(
    services: Services, settings: Settings, supervised: list[str] | None = None
) -> None:
    """Lock the journal directory before the server starts; if another process has it, exit.

    With one line that says what to do: as the app's startup, it was a traceback. Two servers
    on one directory would each delete the segments the other appends to (``_journal_locks``).
    A supervisor only checks that its workers (``supervised``) will find their locks free: so
    that it says so once, rather than each worker (each would, and stop them all).
    """
    from helioscope.cli._workers import JOURNAL_IN_USE
    from helioscope.ingest import JournalInUse, check_free, claim_journal

    root = services.journal_dir()
    try:
        if supervised is not None:
            check_free(root, supervised)
        else:
            claim_journal(root, settings.worker_id, drains=settings.log_writer)
    except JournalInUse as exc:
        print(f"helioscope: {exc}", file=sys.stderr, flush=True)
        sys.exit(JOURNAL_IN_USE)
    except OSError as exc:  # not a directory, not writable, on a full or read-only disk
        # One line, and the status that tells a supervisor not to restart it: it was a
        # traceback, and nothing a restart changes would mend it.
        print(
            f"helioscope: error: cannot use the journal directory {root.absolute()}: "
            f"{exc.strerror or exc} ({exc.filename}); set HELIOSCOPE_JOURNAL_DIR to a "
            "writable directory",
            file=sys.stderr,
            flush=True,
        )
        sys.exit(JOURNAL_IN_USE)


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(min=0, max=65535, help="Port to listen on.")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help=(
                "Server processes on the port (each with its own journal; one of them stores "
                "the log). More than one uses more cores."
            ),
        ),
    ] = 1,
    writer_process: Annotated[
        bool,
        typer.Option(
            "--writer-process",
            help=(
                "Run the log writer in a process of its own, so that storing the log never "
                "shares a server's event loop with the calls it relays."
            ),
        ),
    ] = False,
    fd: Annotated[int | None, typer.Option(hidden=True, help="Inherited socket (workers).")] = None,
    clickhouse_fd: Annotated[
        int | None,
        typer.Option(hidden=True, help="Inherited socket on which to serve chdb (workers)."),
    ] = None,
) -> None:
    """Start the gateway and API (migrating the store first)."""
    import uvicorn

    from helioscope.app import create_app, server_options

    settings = Settings()
    # A child of ``serve --workers`` (an inherited socket, or the writer's own process).
    child = fd is not None or settings.worker_id != "0"
    quiesce = None
    if child:  # it stops when its supervisor is gone, even by SIGKILL
        from helioscope.cli._orphans import stop_with_supervisor

        stop_with_supervisor()
        quiesce = _Quiesce.inherited()
    log_to_stderr(settings.worker_id if child else None)
    updates = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    settings = settings.model_copy(update=updates)
    if settings.self_url is None:  # experiments call the gateway on this same port
        loopback = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
        loopback = f"[{loopback}]" if ":" in loopback else loopback
        settings = settings.model_copy(update={"self_url": f"http://{loopback}:{settings.port}"})
    from helioscope.cli._workers import WRITER_ID

    # The writer's own process (``--writer-process``) listens where no client is sent: its
    # supervisor has said where the server is and which store and journal it uses.
    writer_apart = settings.worker_id == WRITER_ID
    listener = None
    if fd is None and clickhouse_fd is None and not writer_apart:
        # The port first: a server that cannot listen must not create a store, or print the
        # bootstrap key that no later start prints again, before it says so.
        listener = _listen(settings, inheritable=workers > 1 or writer_process)
        try:
            asyncio.run(_announce(settings))
        except KeyboardInterrupt:  # Ctrl-C while it waits for the store
            raise typer.Exit(130) from None
    if workers > 1 or writer_process:
        from helioscope.cli._workers import supervise, worker_ids
        from helioscope.services import Services

        _claim_journal(Services(settings), settings, worker_ids(workers, writer_process))
        assert listener is not None  # (a supervisor is no child: it bound the port above)
        supervise(settings, workers, listener, writer_apart=writer_process)
        return
    tune_malloc()
    app = create_app(settings)
    _claim_journal(app.state.services, settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_drain_seconds) + 5,
        **server_options(settings),
    )
    sockets = _sockets(listener, fd)
    chdb = None if clickhouse_fd is None else _ChdbToServe(settings.clickhouse_url, clickhouse_fd)
    server = _server(
        config, prices=settings.log_writer, chdb=chdb, quiet=writer_apart, quiesce=quiesce
    )
    try:
        server.run(sockets=sockets)
    finally:
        if chdb is not None:
            chdb.stop()
    if not server.started:
        sys.exit(3)  # what uvicorn.run exits with when the server could not start
