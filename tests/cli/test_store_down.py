"""A store that is down when a command starts: one line that names it, never a traceback.

``keys create`` and ``migrate`` exit 1 with it; ``serve`` waits (saying so once) and comes up
when the store does, and so does a ``--workers`` worker restarted during the outage. A
ClickHouse server that keeps the log is such a store too (its tests talk to this process's
chdb through ClickHouse's HTTP interface: ``store/clickhouse/_serve``).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from helioscope.store import _engine as engine_module
from helioscope.store.clickhouse._serve import ChdbServer
from helioscope.store.clickhouse._url import SERVED_USER, served_url
from helioscope.testing._server import loopback_socket
from tests.cli.runner import helioscope
from tests.cli.test_workers import _children, _pid_of
from tests.ingest.test_crash_drills import Server, _prepare
from tests.running import loopback_client
from tests.store.test_store_timeouts import silent_listener
from tests.throwaway_postgres import ThrowawayPostgres, throwaway_postgres

CLICKHOUSE = "HELIOSCOPE_CLICKHOUSE_URL"


def _closed_port() -> int:
    sock = loopback_socket()
    port: int = sock.getsockname()[1]
    sock.close()
    return port


def test_one_shot_commands_exit_with_one_line_naming_the_store() -> None:
    url = f"postgresql://helio:s3cret@127.0.0.1:{_closed_port()}/logs"
    for command in (["keys", "create", "--org", "acme"], ["migrate"]):
        ran = helioscope(*command, env={"HELIOSCOPE_DATABASE_URL": url})
        assert ran.code == 1, ran.stderr
        lines = ran.stderr.splitlines()
        where = f"PostgreSQL postgresql://helio:***@127.0.0.1:{url.split(':')[3]}"
        assert lines[-1].startswith(f"helioscope: error: cannot use the store {where}"), lines
        assert "ConnectionRefusedError" in lines[-1] and "s3cret" not in ran.stderr
        assert len(lines) <= 2 and "Traceback" not in ran.stderr  # ("store: …", then this)
        assert ran.stdout == b""


def test_a_clickhouse_server_down_is_named_in_that_line(tmp_path: Path) -> None:
    # It was named as the SQLite file beside it, with urllib3's 400-character message.
    port = _closed_port()
    env: dict[str, str | None] = {
        "HELIOSCOPE_DATABASE_URL": _sqlite(tmp_path),
        CLICKHOUSE: served_url(port, "s3cret", "hs"),
    }
    ran = helioscope("keys", "create", "--org", "acme", env=env)
    assert ran.code == 1 and ran.stdout == b"", ran.stderr
    assert ran.stderr == (
        f"helioscope: error: cannot use the store ClickHouse http://{SERVED_USER}@127.0.0.1:"
        f"{port}/hs (ClickHouseUnavailable: ConnectionRefusedError: [Errno 111] Connection "
        "refused)\n"
    )
    assert not (tmp_path / "helioscope.db").exists()  # nothing created for a command that failed


def test_a_hung_store_is_one_line_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "CONNECT_SECONDS", 1.0)
    with silent_listener() as port:
        url = f"postgresql://helio:s3cret@127.0.0.1:{port}/logs"
        ran = helioscope("keys", "create", "--org", "acme", env={"HELIOSCOPE_DATABASE_URL": url})
    assert ran.code == 1 and "Traceback" not in ran.stderr, ran.stderr
    assert re.fullmatch(
        r"helioscope: error: cannot use the store PostgreSQL postgresql://helio:\*\*\*@"
        r"127\.0\.0\.1:\d+/logs \(StoreTimeout: timed out after 1\.\d s\)\n",
        ran.stderr,
    ), ran.stderr


@pytest.mark.parametrize("down", ["PostgreSQL", "ClickHouse"])
def test_ctrl_c_while_serve_waits_is_no_traceback(tmp_path: Path, down: str) -> None:
    if down == "PostgreSQL":
        url, env = f"postgresql://helio:s3cret@127.0.0.1:{_closed_port()}/logs", {}
    else:
        url, env = _sqlite(tmp_path), {CLICKHOUSE: f"http://u:pw@127.0.0.1:{_closed_port()}/hs"}
    _, proc, stderr = _serve(url, tmp_path, env=env)
    try:
        deadline = time.monotonic() + 30
        while "waiting for it" not in stderr.read_text():
            assert time.monotonic() < deadline and proc.poll() is None, stderr.read_text()
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 130, stderr.read_text()
        assert "Traceback" not in stderr.read_text(), stderr.read_text()
    finally:  # a failed check must not leave the server running (it outlived the suite)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _sqlite(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'helioscope.db'}"


def _serve(
    url: str,
    workdir: Path,
    *args: str,
    bootstrap: bool = False,
    env: dict[str, str] | None = None,
) -> tuple[Server, subprocess.Popen[bytes], Path]:
    """``helioscope serve ARGS`` started without waiting for it to listen; its stderr's file.

    Its stdout is ``workdir / "stdout"``; with ``bootstrap`` an empty store gets the default
    organization and its key; ``env`` adds to its environment.
    """
    server = Server(url, "http://127.0.0.1:9", workdir, *args)
    server.env["HELIOSCOPE_BOOTSTRAP_DEFAULT_ORG"] = str(bootstrap).lower()
    server.env.update(env or {})
    stderr = workdir / "stderr"
    with stderr.open("wb") as err, (workdir / "stdout").open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "helioscope", "serve", *args],
            env=server.env,
            stdout=out,
            stderr=err,
        )
    server.proc = proc
    return server, proc, stderr


async def _until(predicate: object, seconds: float, what: str | Callable[[], str]) -> None:
    """Wait for ``predicate``; ``what`` says what failed (called then: stderr as it is by then)."""
    assert callable(predicate)
    deadline = time.monotonic() + seconds
    while not await predicate():
        assert time.monotonic() < deadline, what() if callable(what) else what
        await asyncio.sleep(0.2)


async def _answers(server: Server) -> bool:
    try:
        async with loopback_client(server.url, timeout=2) as client:
            return (await client.get("/health")).status_code == 200
    except httpx.HTTPError:
        return False


async def _until_it_waits(proc: subprocess.Popen[bytes] | None, stderr: Path, who: str) -> None:
    """Until the server says it waits for the store (``proc``, if given, still running)."""

    async def waiting() -> bool:
        assert proc is None or proc.poll() is None, stderr.read_text()
        return "waiting for it" in stderr.read_text()

    await _until(waiting, 30, f"{who} never said it waits")


async def test_serve_started_during_an_outage_comes_up_with_the_store(tmp_path: Path) -> None:
    with throwaway_postgres() as cluster:
        await _prepare(cluster.url)
        cluster.stop()
        server, proc, stderr = _serve(cluster.url, tmp_path)
        try:
            await _until_it_waits(proc, stderr, "serve")
            await asyncio.sleep(1.5)  # retrying, quietly
            assert proc.poll() is None
            cluster.start()
            await _until(lambda: _answers(server), 30, "serve never came up")
        finally:
            server.stop()
    text = stderr.read_text()
    assert "Traceback" not in text, text
    assert text.count("waiting for it") == 1 and text.count("reachable after") == 1, text
    assert "ConnectionRefusedError" in text


@pytest.mark.parametrize("args", [(), ("--workers", "2")], ids=["one", "workers"])
async def test_serve_waits_for_a_clickhouse_server_down_at_start(
    tmp_path: Path, chdb_path: Path, args: tuple[str, ...]
) -> None:
    """The log's ClickHouse server is waited for as the store is, and named (no password).

    Down at start, it failed the startup with a traceback (exit 3), and ``--workers`` had its
    workers restarted 6 times in 12 s, each with one.
    """
    port, password = _closed_port(), secrets.token_urlsafe(16)
    database = f"wait_{uuid.uuid4().hex[:12]}"
    env = {CLICKHOUSE: served_url(port, password, database)}
    server, proc, stderr = _serve(_sqlite(tmp_path), tmp_path, *args, env=env)
    chdb: ChdbServer | None = None
    try:
        await _until_it_waits(proc, stderr, "serve")
        await asyncio.sleep(2)  # retrying, quietly
        assert proc.poll() is None, stderr.read_text()
        # The port answers now: ClickHouse's HTTP interface, in front of this process's chdb.
        chdb = ChdbServer(str(chdb_path), socket.create_server(("127.0.0.1", port)), password)
        await _until(lambda: _answers(server), 60, stderr.read_text)
    finally:
        server.stop()
        if chdb is not None:
            chdb.close()
    text = stderr.read_text()
    assert "Traceback" not in text and "Unexpected Http Driver" not in text, text
    assert password not in text and "restarting it" not in text, text
    where = f"store ClickHouse http://{SERVED_USER}@127.0.0.1:{port}/{database}"
    assert f"{where} unreachable (ClickHouseUnavailable: ConnectionRefusedError:" in text, text
    assert text.count("waiting for it") == 1 and text.count("reachable after") == 1, text


async def _worker_restarted_in_an_outage(
    cluster: ThrowawayPostgres, server: Server, stderr: Path
) -> None:
    """Once both workers are up, stop the store and kill one: the restarted one waits."""
    await _until(lambda: _answers(server), 60, "the workers never came up")

    async def both_up() -> bool:  # not one still starting: it would wait for the store itself
        return stderr.read_text().count("Application startup complete") == 2

    await _until(both_up, 60, stderr.read_text)
    worker = _children(server)[0]  # a serving worker (they share one command line)
    cluster.stop()
    os.kill(_pid_of(server, worker), signal.SIGKILL)

    await _until_it_waits(None, stderr, "the restarted worker")


@pytest.mark.parametrize("then", ["store back", "SIGTERM"])
async def test_a_worker_restarted_during_an_outage_waits_quietly(tmp_path: Path, then: str) -> None:
    """It waits, restarted once, until the store is back; or it stops on SIGTERM.

    Told to stop while its startup waited, it used to wait on until its supervisor killed it,
    HELIOSCOPE_SHUTDOWN_DRAIN_SECONDS + 15 s later.
    """
    with throwaway_postgres() as cluster:
        await _prepare(cluster.url)
        server, proc, stderr = _serve(cluster.url, tmp_path, "--workers", "2")
        try:
            await _worker_restarted_in_an_outage(cluster, server, stderr)
            if then == "SIGTERM":
                proc.send_signal(signal.SIGTERM)
                assert await asyncio.to_thread(proc.wait, 60) == 0
                assert stderr.read_text().count("stopped while starting") == 1
            else:
                await asyncio.sleep(3)  # restarted once, waiting: not restarted again and again
                assert stderr.read_text().count("restarting it") == 1, stderr.read_text()
                cluster.start()

                async def back() -> bool:
                    return "reachable after" in stderr.read_text()

                await _until(
                    back, 60, lambda: f"the worker never saw the store back: {stderr.read_text()}"
                )
        finally:
            server.stop()
    text = stderr.read_text()
    assert "Traceback" not in text, text
