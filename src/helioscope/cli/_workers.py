"""``serve --workers N``: N server processes on one pre-forked socket, one of them the log writer.

The parent binds the port, migrates the store once, and starts N children that accept on the
inherited socket; each appends to its own journal (``HELIOSCOPE_WORKER_ID``), and worker 0 also
runs the log writer that drains them all (SQLite keeps one writer). A child that dies is
started again. SIGTERM (or SIGINT) drains: every worker stops accepting at once and finishes its
calls (worker 0 is told through ``QUIESCE_FD``, and its readiness answers 503 from then on, as the
others' does), the others exit first, then worker 0, whose writer catches up within
``HELIOSCOPE_SHUTDOWN_DRAIN_SECONDS``; whatever is left stays in the journals for the next start.
A supervisor killed outright (``kill -9``) has each child stop as under SIGTERM by itself
(``cli._orphans``), so that none serves on unsupervised, holding its journal's lock.

With ``--writer-process`` the log writer runs in a process of its own that serves no calls (it
listens on an ephemeral loopback port only), and every serving worker only journals: building
rows and storing them then never shares an event loop (or a GIL) with the calls in flight, and
takes another core where there is one.

An embedded ClickHouse (``HELIOSCOPE_CLICKHOUSE_URL=chdb://…``) is open to one process: the
one that runs the log writer opens it and serves it to the others over ClickHouse's HTTP
interface (``store/clickhouse/_serve``), on a loopback socket the parent binds here (so the
others can connect before it is up, and again after it restarts) with a password made anew at
each start. The others are given an ``http://`` URL to it, as if it were a ClickHouse server.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from types import FrameType

from helioscope.cli._orphans import SUPERVISOR_PID
from helioscope.config import Settings

logger = logging.getLogger("helioscope")


def bound(host: str, port: int, *, inheritable: bool = True) -> socket.socket:
    """A TCP socket bound to the port, not listening yet.

    Until it listens, a client that connects is refused at once rather than left waiting in
    the backlog (while the server waits for its store, say). ``inheritable``: for the workers;
    else no child process (an evaluator's sandbox) holds the port after the server is gone.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(inheritable)
    return sock


_BACKLOG = 2048  # uvicorn's default


WRITER = -1  # the log writer's own process (``--writer-process``)
WRITER_ID = "writer"  # its HELIOSCOPE_WORKER_ID (its journal's directory)
# What a server exits with when another process has its journal directory: restarting it
# cannot help (EX_CONFIG, from sysexits.h).
JOURNAL_IN_USE = 78
# How the parent hands the chdb server's password to the process that serves it (not argv:
# any local user can read a command line).
CHDB_PASSWORD = "HELIOSCOPE_CHDB_PASSWORD"
# How the parent tells worker 0, when the server stops, to stop taking calls while the other
# workers drain, but to keep its log writer running until they have exited (SIGTERM then): it
# closes its end of a pipe whose other end worker 0 holds (that end's number in this variable).
# A closed pipe stays closed, so a worker 0 that was still starting then finds it once it serves;
# a signal sent then was lost (ignored until the child had installed its handler).
QUIESCE_FD = "HELIOSCOPE_QUIESCE_FD"


@dataclass(frozen=True, slots=True)
class _ServedChdb:
    """An embedded ClickHouse served by the writing process: its socket, password and URL."""

    sock: socket.socket
    password: str
    url: str

    @classmethod
    def listen(cls, clickhouse_url: str | None) -> _ServedChdb | None:
        if clickhouse_url is None:
            return None
        # Imported here: ClickHouse's client is an extra (helioscope[clickhouse]).
        from helioscope.store.clickhouse._url import ClickHouseUrl, served_url

        url = ClickHouseUrl.parse(clickhouse_url)
        if url.kind != "chdb":
            return None
        sock = bound("127.0.0.1", 0)
        sock.listen(_BACKLOG)
        password = secrets.token_urlsafe(24)
        return cls(sock, password, served_url(sock.getsockname()[1], password, url.database))


def worker_ids(workers: int, writer_apart: bool) -> list[str]:
    """The ``HELIOSCOPE_WORKER_ID`` of each process ``supervise`` starts."""
    return [*map(str, range(workers)), *([WRITER_ID] if writer_apart else [])]


def _start(
    worker: int,
    sock: socket.socket,
    settings: Settings,
    writer_apart: bool,
    chdb: _ServedChdb | None,
    quiesce: int,
) -> subprocess.Popen[bytes]:
    """Start one child; ``quiesce``: the end of the ``QUIESCE_FD`` pipe that worker 0 holds."""
    writes = worker == WRITER or (worker == 0 and not writer_apart)
    env = {
        **os.environ,
        "HELIOSCOPE_WORKER_ID": WRITER_ID if worker == WRITER else str(worker),
        "HELIOSCOPE_LOG_WRITER": "true" if writes else "false",
        "HELIOSCOPE_SELF_URL": settings.self_url or "",
        SUPERVISOR_PID: str(os.getpid()),  # it stops when this one is gone (``cli._orphans``)
    }
    if worker != 0:  # worker 0 alone may create the default organization and print its key
        env["HELIOSCOPE_BOOTSTRAP_DEFAULT_ORG"] = "false"
    command = [sys.executable, "-m", "helioscope", "serve"]
    fds: tuple[int, ...] = ()
    if chdb is not None and writes:  # opens chdb, and serves it to the others
        env[CHDB_PASSWORD] = chdb.password
        fds = (chdb.sock.fileno(),)
        command += ["--clickhouse-fd", str(chdb.sock.fileno())]
    elif chdb is not None:
        env["HELIOSCOPE_CLICKHOUSE_URL"] = chdb.url
    if worker == WRITER:  # serves no calls: its API listens where no client is sent
        command += ["--host", "127.0.0.1", "--port", "0"]
        return subprocess.Popen(command, env=env, pass_fds=fds)
    fds += (sock.fileno(),)
    if writes:  # worker 0, which serves calls and writes the log
        env[QUIESCE_FD] = str(quiesce)
        fds += (quiesce,)
    return subprocess.Popen([*command, "--fd", str(sock.fileno())], env=env, pass_fds=fds)


def listening(settings: Settings, workers: int, writer_apart: bool) -> str:
    """Where the workers serve (uvicorn's own line is not printed by the parent)."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    apart = " and a log writer process" if writer_apart else ""
    return f"{workers} workers{apart} on http://{host}:{settings.port}"


def rate_limit_caveat(settings: Settings, workers: int) -> str | None:
    """What rate limits do differently under these processes, to say at start (or None).

    Buckets live in each process unless Redis holds them. (Whichever process serves a call
    charges its ``u=cents`` cost, to the bucket it checked: ``gateway.controls._cents``.)
    """
    if workers > 1 and settings.redis_url is None:
        return (
            f"each of the {workers} workers keeps its own rate-limit buckets (set "
            f"HELIOSCOPE_REDIS_URL to share them): a policy allows up to {workers} times its quota"
        )
    return None


def named(worker: int) -> str:
    """A child's name in the supervisor's messages."""
    return "the log writer process" if worker == WRITER else f"worker {worker}"


def supervise(
    settings: Settings, workers: int, sock: socket.socket, *, writer_apart: bool = False
) -> None:
    """Run ``workers`` server processes on ``sock`` until SIGTERM or SIGINT, then drain them.

    With ``writer_apart``, one more process runs the log writer alone.
    """
    sock.listen(_BACKLOG)  # (the workers' servers listen on it again: no harm)
    quiesce, quiesced = os.pipe()  # (QUIESCE_FD: worker 0 holds the first, this one the other)
    chdb = _ServedChdb.listen(settings.clickhouse_url)
    names = [*range(workers), *([WRITER] if writer_apart else [])]

    def start(worker: int) -> subprocess.Popen[bytes]:
        return _start(worker, sock, settings, writer_apart, chdb, quiesce)

    children = {worker: start(worker) for worker in names}
    print(f"helioscope: {listening(settings, workers, writer_apart)}", file=sys.stderr, flush=True)
    caveat = rate_limit_caveat(settings, workers)
    if caveat is not None:
        print(f"helioscope: warning: {caveat}", file=sys.stderr, flush=True)
    stopping: list[int] = []

    def on_signal(signum: int, _: FrameType | None) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stopping:
        for worker, child in children.items():
            if child.poll() == JOURNAL_IN_USE:  # it said why; restarting it cannot help
                stopping.append(JOURNAL_IN_USE)
                break
            if child.poll() is not None:
                print(
                    f"helioscope: {named(worker)} exited with {child.returncode}; restarting it",
                    file=sys.stderr,
                    flush=True,
                )
                children[worker] = start(worker)
        time.sleep(0.2)
    sock.close()  # the chdb socket stays open: the writer, stopping last, serves to the end
    os.close(quiesced)  # worker 0 stops taking calls with the others (QUIESCE_FD)
    _stop(children, WRITER if writer_apart else 0, settings.shutdown_drain_seconds + 15)
    os.close(quiesce)
    if JOURNAL_IN_USE in stopping:
        sys.exit(JOURNAL_IN_USE)


def _stop(children: dict[int, subprocess.Popen[bytes]], writer: int, wait: float) -> None:
    """SIGTERM every child, the writer last, so that it stores what the others journalled."""
    for phase in ([w for w in children if w != writer], [writer]):
        for worker in phase:
            if children[worker].poll() is None:
                children[worker].send_signal(signal.SIGTERM)
        for worker in phase:
            try:
                children[worker].wait(wait)
            except subprocess.TimeoutExpired:
                children[worker].kill()
