"""A PostgreSQL cluster of a test's own (initdb, pg_ctl on a free port), to stop and start at will.

Outage and crash drills stop the store; the shared test server must never be stopped, so they
run against one of these. Made as the ``postgres`` user (initdb refuses root), removed after.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import asyncpg

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
        _as_postgres(
            "initdb", "--no-sync", "-D", str(directory / "data"), "-A", "trust", "-U", "postgres"
        ),
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


class Held:
    """A table locked from a connection of the test's own, and the backends that wait for it."""

    def __init__(self, holder: asyncpg.Connection, watcher: asyncpg.Connection) -> None:
        self._holder = holder
        self._watcher = watcher  # (the holder's transaction would see one snapshot of the stats)

    async def waiting(self) -> int | None:
        """The pid of a backend that waits for the lock, if one does."""
        pid: int | None = await self._watcher.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
            self._holder.get_server_pid(),
        )
        return pid

    async def end_and_release(self, pid: int) -> None:
        """End backend ``pid`` (its client sees its connection closed), then release the lock."""
        assert await self._watcher.fetchval("SELECT pg_terminate_backend($1)", pid)
        await self._holder.execute("ROLLBACK")


@asynccontextmanager
async def holding(url: str, table: str) -> AsyncIterator[Held]:
    """``table`` locked until exit (or the cluster stops): a statement on it waits meanwhile.

    A server's startup then stops at a known statement, a moment at which to stop the cluster
    or end the backend that runs it.
    """
    holder = await asyncpg.connect(url)
    watcher = await asyncpg.connect(url)
    try:
        await holder.execute(f"BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        yield Held(holder, watcher)
    finally:
        for conn in (holder, watcher):
            conn.terminate()  # (their cluster may be down: no goodbye)


async def until_waiting(held: Held, alive: Callable[[], object]) -> int:
    """The backend that waits for ``held``'s lock, once one does; ``alive()`` fails the wait."""
    deadline = asyncio.get_running_loop().time() + 60
    while (pid := await held.waiting()) is None:
        alive()
        assert asyncio.get_running_loop().time() < deadline, "nothing waited for the lock"
        await asyncio.sleep(0.05)
    return pid
