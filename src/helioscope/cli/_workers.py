"""``serve --workers N``: N server processes on one pre-forked socket, one of them the log writer.

The parent binds the port, migrates the store once, and starts N children that accept on the
inherited socket; each appends to its own journal (``HELIOSCOPE_WORKER_ID``), and worker 0 also
runs the log writer that drains them all (SQLite keeps one writer). A child that dies is
started again. SIGTERM (or SIGINT) drains: the other workers stop first (they stop accepting and
finish their calls), then worker 0, whose writer catches up within
``HELIOSCOPE_SHUTDOWN_DRAIN_SECONDS``; whatever is left stays in the journals for the next start.
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


def _start(worker: int, sock: socket.socket, settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HELIOSCOPE_WORKER_ID": str(worker),
        "HELIOSCOPE_LOG_WRITER": "true" if worker == 0 else "false",
        "HELIOSCOPE_SELF_URL": settings.self_url or "",
    }
    if worker != 0:  # worker 0 alone may create the default organization and print its key
        env["HELIOSCOPE_BOOTSTRAP_DEFAULT_ORG"] = "false"
    fd = sock.fileno()
    command = [sys.executable, "-m", "helioscope", "serve", "--fd", str(fd)]
    return subprocess.Popen(command, env=env, pass_fds=(fd,))


def supervise(settings: Settings, workers: int) -> None:
    """Run ``workers`` server processes until SIGTERM or SIGINT, then drain them."""
    sock = _listen(settings.host, settings.port)
    children = {worker: _start(worker, sock, settings) for worker in range(workers)}
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
                children[worker] = _start(worker, sock, settings)
        time.sleep(0.2)
    sock.close()
    wait = settings.shutdown_drain_seconds + 15
    # The writer (worker 0) stops last, so that it stores what the others journalled.
    for phase in ([w for w in children if w != 0], [0]):
        for worker in phase:
            if children[worker].poll() is None:
                children[worker].send_signal(signal.SIGTERM)
        for worker in phase:
            try:
                children[worker].wait(wait)
            except subprocess.TimeoutExpired:
                children[worker].kill()
