"""A PostgreSQL cluster of a test's own (initdb, pg_ctl on a free port), to stop and start at will.

Outage and crash drills stop the store; the shared test server must never be stopped, so they
run against one of these. Made as the ``postgres`` user (initdb refuses root), removed after.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from helioscope.testing._server import loopback_socket


def _as_postgres(*args: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


class ThrowawayPostgres:
    """One cluster: ``url`` to reach it, ``stop()`` (immediate, like a crash) and ``start()``."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres("pg_ctl", "-D", str(self.directory / "data"), "-w", "-s", *args),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> None:
        """Start (or restart) the cluster; returns once it accepts connections."""
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-o", options, "-l", str(self.directory / "log"), "start")

    def stop(self) -> None:
        """Stop it at once (clients see their connections dropped)."""
        self._ctl("-m", "immediate", "stop")


@contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """A running cluster of this test's own, removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="helioscope-pg-"))
    shutil.chown(directory, "postgres") if os.geteuid() == 0 else None
    sock = loopback_socket()
    port = sock.getsockname()[1]
    sock.close()
    subprocess.run(
        _as_postgres("initdb", "-D", str(directory / "data"), "-A", "trust", "-U", "postgres"),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cluster = ThrowawayPostgres(directory, port)
    cluster.start()
    try:
        yield cluster
    finally:
        try:
            cluster.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(directory, ignore_errors=True)
