"""SIGTERM to ``serve --workers 2``: every worker stops taking calls at once, worker 0 (the log
writer) included, while a call in flight on the other worker finishes and is stored; also when
worker 0 was still starting at the SIGTERM (as after a restart, or on a busy machine)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import pytest

from tests.cli.test_workers import _ready
from tests.ingest.test_crash_drills import Server, _prepare, fake_provider, until_stored

BODY = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"draining"}]}'

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]

# Worker 0 waits, before its server has even been imported, until the test has made this file.
HELD_AT_START = """
import os, time
go = os.environ.get("HELIOSCOPE_TEST_GO")
if go and os.environ.get("HELIOSCOPE_WORKER_ID") == "0":
    deadline = time.monotonic() + 60
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.05)
"""


async def _answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a content-length: status, headers, body."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in head[1:] if line)
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(head[0].split(" ", 2)[1]), headers, body


async def _readiness(connection: Connection, port: int) -> tuple[int, str]:
    """``GET /health/ready`` on a kept-alive connection: the status and the worker's id."""
    connection[1].write(f"GET /health/ready HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n\r\n".encode())
    status, _, body = await _answer(connection[0])
    return status, json.loads(body).get("worker", {}).get("id", "")


async def _connection_to_worker_1(port: int) -> Connection:
    """A connection that worker 1 (not the log writer) accepted."""
    deadline = time.monotonic() + 60
    while True:
        assert time.monotonic() < deadline, "worker 1 accepted no connection"
        connection = await asyncio.open_connection("127.0.0.1", port)
        status, worker = await _readiness(connection, port)
        if status == 200 and worker == "1":
            return connection
        connection[1].close()


async def _refused(port: int) -> bool:
    """Whether a new connection is refused: no process listens on the port any more."""
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except ConnectionRefusedError:
        return True
    writer.close()
    return False


@pytest.mark.parametrize("worker_0", ["serving", "starting"])
async def test_sigterm_stops_every_worker_taking_calls_while_one_drains(
    tmp_path: Path, worker_0: str
) -> None:
    database_url = f"sqlite:///{tmp_path / 'drain.db'}"
    key = await _prepare(database_url)
    go = tmp_path / "go"
    with fake_provider() as upstream:
        server = Server(database_url, upstream, tmp_path, "--workers", "2")
        # Worker 1 waits this long (+5 s) for the call in flight: longer than the test does.
        server.env["HELIOSCOPE_SHUTDOWN_DRAIN_SECONDS"] = "60"
        if worker_0 == "starting":  # held (by a sitecustomize) until after the SIGTERM
            (tmp_path / "sitecustomize.py").write_text(HELD_AT_START)
            path = [str(tmp_path), *filter(None, [server.env.get("PYTHONPATH")])]
            server.env.update(PYTHONPATH=os.pathsep.join(path), HELIOSCOPE_TEST_GO=str(go))
        else:
            go.touch()
        log = tmp_path / "stderr"
        server.stderr = log.open("wb")
        server.start()
        try:
            await _ready(server)
            reader, writer = await _connection_to_worker_1(server.port)
        except BaseException:
            server.stop()
            raise
        try:
            # A call in flight on worker 1, until the test sends its body: the gateway asks for
            # it (100 Continue) once it has taken the call.
            writer.write(
                (
                    "POST /oai/v1/chat/completions HTTP/1.1\r\n"
                    f"host: 127.0.0.1:{server.port}\r\ncontent-type: application/json\r\n"
                    f"helicone-auth: Bearer {key}\r\nauthorization: Bearer sk-fake\r\n"
                    f"expect: 100-continue\r\ncontent-length: {len(BODY)}\r\n\r\n"
                ).encode()
            )
            assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
            assert server.proc is not None
            server.proc.send_signal(signal.SIGTERM)
            # Worker 1 is told to stop after worker 0 is: then worker 0 may start.
            deadline = time.monotonic() + 30
            while b"Shutting down" not in log.read_bytes():
                assert time.monotonic() < deadline, log.read_text()
                await asyncio.sleep(0.05)
            go.touch()
            # Worker 0 went on accepting calls (answering ready) until worker 1 was done.
            # (Refused: every process has closed the listening socket; a connection accepted
            # and then closed may be one a worker took just before it stopped accepting.)
            deadline = time.monotonic() + 30
            while not await _refused(server.port):
                assert time.monotonic() < deadline, "a worker still accepts calls"
                await asyncio.sleep(0.05)
            # The call in flight finishes, is answered and stored; then the server exits.
            writer.write(BODY)
            status, headers, _ = await _answer(reader)
            assert status == 200
            assert server.proc.wait(60) == 0
        finally:
            writer.close()
            server.stop()
            server.stderr.close()
    await until_stored(database_url, {headers["helicone-id"]}, 0)
