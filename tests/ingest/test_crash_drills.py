"""Crash drills: real server processes, real SIGKILL, thousands of calls; nothing answered is lost.

Each drill drives calls through ``helioscope serve`` (to the fake provider, another process),
records every ``Helicone-Id`` answered 200, kills the server with SIGKILL in the middle of the
load, starts it again, and asserts that every one of those ids is stored. With the store up,
and with the store down at the moment of the kill (SQLite: a test-held exclusive lock;
PostgreSQL: a cluster of the test's own, stopped, never the shared one).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from sqlalchemy import text

from helioscope.store import Store, keys
from tests.ingest.test_writer import locked_log_table
from tests.throwaway_postgres import ThrowawayPostgres, throwaway_postgres

CALLS = 3_600
KILL_AFTER = 3_000  # answered 200 before the kill: the load is still running when it lands
CONCURRENCY = 48


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@contextmanager
def fake_provider() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "helioscope.testing", "--port", str(port)])
    try:
        _wait_listening(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


class Server:
    """``helioscope serve`` in a process of its own, restartable on the same port and journal."""

    def __init__(self, database_url: str, upstream: str, workdir: Path, *args: str) -> None:
        self.args = args
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "HELIOSCOPE_DATABASE_URL": database_url,
            "HELIOSCOPE_PORT": str(self.port),
            "HELIOSCOPE_OPENAI_BASE_URL": upstream,
            "HELIOSCOPE_JOURNAL_DIR": str(workdir / "journal"),
            "HELIOSCOPE_BOOTSTRAP_DEFAULT_ORG": "false",
            "HELIOSCOPE_LOG_RETRY_SECONDS": "0.1",
            "HELIOSCOPE_SHUTDOWN_DRAIN_SECONDS": "5",
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.stderr: IO[bytes] | None = None  # where its stderr goes (None: this one's)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "helioscope", "serve", *self.args],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
        )
        _wait_listening(self.port, self.proc)

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)


async def _prepare(database_url: str) -> str:
    store = Store.open(database_url)
    await store.migrate()
    org = await store.write(keys.get_or_create_org, "drill")
    key = await store.org(org.id).write(keys.create_api_key)
    await store.close()
    return key.key


async def _stored(database_url: str, ids: set[str]) -> set[str]:
    store = Store.open(database_url)
    found: set[str] = set()
    async with store.engine.connect() as conn:
        for row in await conn.execute(text("SELECT request_id FROM request_response")):
            found.add(row[0])
    await store.close()
    return ids & found


async def until_stored(database_url: str, ids: set[str], seconds: float) -> None:
    """Wait until every one of ``ids`` is in the log (an assertion past ``seconds``)."""
    deadline = time.monotonic() + seconds
    while await _stored(database_url, ids) != ids:
        assert time.monotonic() < deadline, "answered calls were never stored"
        await asyncio.sleep(0.2)


async def _call(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, str]:
    """One keep-alive HTTP/1.1 exchange: the status and the Helicone-Id header.

    A bare client, because the load is what the drill costs: httpx spent ~5 ms of CPU per call
    at this concurrency, five times the server's; this spends a few tens of microseconds.
    """
    writer.write(request)
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in head[1:] if line)
    await reader.readexactly(int(headers.get("content-length", "0")))
    return int(head[0].split(" ", 2)[1]), headers.get("helicone-id", "")


async def _load(server: Server, key: str, on_answered: Any) -> set[str]:
    """Send CALLS calls; return the ids answered 200. ``on_answered(n)`` runs after each 200."""
    answered: set[str] = set()
    queue = iter(range(CALLS))
    body = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"drill"}]}'
    request = (
        "POST /oai/v1/chat/completions HTTP/1.1\r\n"
        f"host: 127.0.0.1:{server.port}\r\ncontent-type: application/json\r\n"
        f"helicone-auth: Bearer {key}\r\nauthorization: Bearer sk-fake\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode() + body

    async def worker() -> None:
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        for _ in queue:
            try:
                if connection is None:
                    connection = await asyncio.open_connection("127.0.0.1", server.port)
                status, helicone_id = await asyncio.wait_for(_call(*connection, request), 10)
            except (OSError, asyncio.IncompleteReadError, TimeoutError):
                if connection is not None:  # the server is dead: the call was not answered
                    connection[1].close()
                    connection = None
                continue
            if status == 200:
                answered.add(helicone_id)
                await on_answered(len(answered))
        if connection is not None:
            connection[1].close()

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return answered


@asynccontextmanager
async def _store_down(database_url: str, cluster: ThrowawayPostgres | None) -> AsyncIterator[None]:
    if cluster is None:
        async with locked_log_table(database_url):
            yield
        return
    cluster.stop()
    try:
        yield
    finally:
        cluster.start()


async def _drill(
    database_url: str, workdir: Path, cluster: ThrowawayPostgres | None, down: bool
) -> None:
    key = await _prepare(database_url)
    with fake_provider() as upstream:
        server = Server(database_url, upstream, workdir)
        server.start()
        try:
            async with _maybe_down(database_url, cluster, down) as take_down:
                killed = asyncio.Event()

                async def on_answered(count: int) -> None:
                    if count == KILL_AFTER // 2 and take_down is not None:
                        await take_down()
                    if count >= KILL_AFTER and not killed.is_set():
                        killed.set()
                        server.kill()

                answered = await _load(server, key, on_answered)
            assert killed.is_set() and len(answered) >= KILL_AFTER
            server.start()
            await until_stored(database_url, answered, 90)
            async with httpx.AsyncClient(base_url=server.url) as client:
                ready = (await client.get("/health/ready")).json()
            assert ready["status"] == "ready"
        finally:
            server.stop()


@asynccontextmanager
async def _maybe_down(
    database_url: str, cluster: ThrowawayPostgres | None, down: bool
) -> AsyncIterator[Any]:
    """Yields a coroutine function taking the store down (None when the store stays up)."""
    if not down:
        yield None
        return
    stack: list[Any] = []

    async def take_down() -> None:
        context = _store_down(database_url, cluster)
        await context.__aenter__()
        stack.append(context)

    try:
        yield take_down
    finally:
        for context in stack:
            await context.__aexit__(None, None, None)


@pytest.mark.parametrize("down", [False, True], ids=["store-up", "store-down"])
async def test_sqlite_kill_9_loses_nothing_answered(tmp_path: Path, down: bool) -> None:
    await _drill(f"sqlite:///{tmp_path / 'drill.db'}", tmp_path, None, down)


@pytest.mark.parametrize("down", [False, True], ids=["store-up", "store-down"])
async def test_postgres_kill_9_loses_nothing_answered(tmp_path: Path, down: bool) -> None:
    with throwaway_postgres() as cluster:
        await _drill(cluster.url, tmp_path, cluster, down)
