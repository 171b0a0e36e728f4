"""``serve --workers N``: N server processes on one pre-forked socket, one of them the log writer.

The parent binds the port, migrates the store once, and starts N children that accept on the
inherited socket; each appends to its own journal (``HELIOSCOPE_WORKER_ID``), and worker 0 also
runs the log writer that drains them all (SQLite keeps one writer). A child that dies is
started again. SIGTERM (or SIGINT) drains: the other workers stop first (they stop accepting and
finish their calls), then worker 0, whose writer catches up within
``HELIOSCOPE_SHUTDOWN_DRAIN_SECONDS``; whatever is left stays in the journals for the next start.

With ``--writer-process`` the log writer runs in a process of its own that serves no calls (it
listens on an ephemeral loopback port only), and every serving worker only journals: building
rows and storing them then never shares an event loop (or a GIL) with the calls in flight, and
takes another core where there is one.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from types import FrameType

from helioscope.config import Settings

logger = logging.getLogger("helioscope")


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


WRITER = -1  # the log writer's own process (``--writer-process``)


def _start(
    worker: int, sock: socket.socket, settings: Settings, writer_apart: bool
) -> subprocess.Popen[bytes]:
    writes = worker == WRITER or (worker == 0 and not writer_apart)
    env = {
        **os.environ,
        "HELIOSCOPE_WORKER_ID": "writer" if worker == WRITER else str(worker),
        "HELIOSCOPE_LOG_WRITER": "true" if writes else "false",
        "HELIOSCOPE_SELF_URL": settings.self_url or "",
    }
    if worker != 0:  # worker 0 alone may create the default organization and print its key
        env["HELIOSCOPE_BOOTSTRAP_DEFAULT_ORG"] = "false"
    if worker == WRITER:  # serves no calls: its API listens where no client is sent
        command = [sys.executable, "-m", "helioscope", "serve", "--host", "127.0.0.1"]
        return subprocess.Popen([*command, "--port", "0"], env=env)
    fd = sock.fileno()
    command = [sys.executable, "-m", "helioscope", "serve", "--fd", str(fd)]
    return subprocess.Popen(command, env=env, pass_fds=(fd,))


def supervise(settings: Settings, workers: int, *, writer_apart: bool = False) -> None:
    """Run ``workers`` server processes until SIGTERM or SIGINT, then drain them.

    With ``writer_apart``, one more process runs the log writer alone.
    """
    sock = _listen(settings.host, settings.port)
    names = [*range(workers), *([WRITER] if writer_apart else [])]
    children = {worker: _start(worker, sock, settings, writer_apart) for worker in names}
    stopping: list[int] = []

    def on_signal(signum: int, _: FrameType | None) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stopping:
        for worker, child in children.items():
            if child.poll() is not None:
                print(
                    f"helioscope: worker {worker} exited with {child.returncode}; restarting it",
                    file=sys.stderr,
                    flush=True,
                )
                children[worker] = _start(worker, sock, settings, writer_apart)
        time.sleep(0.2)
    sock.close()
    wait = settings.shutdown_drain_seconds + 15
    # The writer stops last, so that it stores what the others journalled.
    writer = WRITER if writer_apart else 0
    for phase in ([w for w in children if w != writer], [writer]):
        for worker in phase:
            if children[worker].poll() is None:
                children[worker].send_signal(signal.SIGTERM)
        for worker in phase:
            try:
                children[worker].wait(wait)
            except subprocess.TimeoutExpired:
                children[worker].kill()
