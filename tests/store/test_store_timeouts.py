"""A hung store (it accepts connections and never answers) fails callers in bounded time.

Connecting is bounded (``CONNECT_SECONDS``), and so is a statement (``STATEMENT_SECONDS``): the
driver's silent ``TimeoutError`` becomes a ``StoreTimeout`` that says how long the call waited,
which the API answers with its 503 envelope and the gateway with its key-store 503.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from helioscope.store import UNAVAILABLE_ERRORS, Db, Store, _migrate, is_transient
from helioscope.store import _engine as engine_module
from helioscope.store._engine import create_engine
from helioscope.store._runner import StoreTimeout
from helioscope.testing import FakeProvider
from tests.conftest import settings_for
from tests.gateway.clients import openai_client
from tests.running import running
from tests.throwaway_postgres import ThrowawayPostgres, throwaway_postgres


@pytest.fixture
def short_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bounds of a second, so that a test waits for them in seconds, not half a minute."""
    monkeypatch.setattr(engine_module, "CONNECT_SECONDS", 1.0)
    monkeypatch.setattr(engine_module, "STATEMENT_SECONDS", 1.0)


async def _sleep(db: Db, seconds: float) -> None:
    await db.scalar(text(f"SELECT pg_sleep({seconds})"))


@pytest.mark.usefixtures("short_bounds")
async def test_a_statement_is_bounded_and_says_how_long_it_waited(postgres_url: str) -> None:
    store = Store(create_engine(postgres_url))
    try:
        started = time.monotonic()
        with pytest.raises(StoreTimeout, match=r"^timed out after 1\.\d s$") as raised:
            await store.read(_sleep, 10)
        assert time.monotonic() - started < 5
        assert isinstance(raised.value, UNAVAILABLE_ERRORS) and is_transient(raised.value)
        with pytest.raises(StoreTimeout):  # a transaction too
            await store.write(_sleep, 10)
        await store.ping()  # the pool recovers: the next call is answered
    finally:
        await store.close()


@pytest.mark.usefixtures("short_bounds")
async def test_migrations_are_not_bounded_by_the_statement_timeout(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An index built on a large log may take longer than any query should: here, a migration
    # that takes longer than the (short) bound.
    async def slow_upgrade(engine: AsyncEngine) -> None:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT pg_sleep(1.5)"))

    monkeypatch.setattr(_migrate, "upgrade", slow_upgrade)
    store = Store(create_engine(postgres_url))
    try:
        await store.migrate()
        with pytest.raises(StoreTimeout):  # while queries stay bounded
            await store.read(_sleep, 1.5)
    finally:
        await store.close()


@contextmanager
def silent_listener() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@pytest.mark.usefixtures("short_bounds")
async def test_a_clickhouse_server_that_never_answers_is_bounded_too() -> None:
    # clickhouse-connect waits 300 s for an answer by default: the writer's batch and every
    # API query hung as long.
    from helioscope.store.clickhouse._client import ClickHouse, ClickHouseUnavailable

    with silent_listener() as port:
        started = time.monotonic()
        with pytest.raises(ClickHouseUnavailable):
            await asyncio.wait_for(ClickHouse.connect(f"http://127.0.0.1:{port}/helioscope"), 20)
        assert time.monotonic() - started < 10


@pytest.mark.usefixtures("short_bounds")
async def test_connecting_to_a_store_that_never_answers_is_bounded() -> None:
    with silent_listener() as port:
        store = Store(create_engine(f"postgresql://postgres@127.0.0.1:{port}/helioscope"))
        try:
            started = time.monotonic()
            with pytest.raises(StoreTimeout, match=r"^timed out after 1\.\d s$"):
                await store.ping()
            assert time.monotonic() - started < 5
        finally:
            await store.close()


def _freeze(cluster: ThrowawayPostgres, sig: signal.Signals) -> None:
    """Send ``sig`` to the cluster's postmaster and every backend (SIGSTOP: a hung store)."""
    postmaster = int((cluster.directory / "data" / "postmaster.pid").read_text().split()[0])
    pids = [postmaster]
    for task in Path(f"/proc/{postmaster}/task").iterdir():
        pids += [int(pid) for pid in (task / "children").read_text().split()]
    for pid in pids:
        os.kill(pid, sig)


@pytest.mark.usefixtures("short_bounds")
async def test_a_hung_store_answers_503_in_bounded_time(
    fake: FakeProvider, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with throwaway_postgres() as cluster:
        settings = settings_for(cluster.url, fake, tmp_path).model_copy(
            update={"shutdown_drain_seconds": 0.5}
        )
        async with running(settings) as hs:
            # A second key, never used: the gateway has to look it up.
            unseen = await hs.add_org("other")
            async with openai_client(hs) as client:
                await client.chat.completions.create(model="gpt-4o-mini", messages=[])
                await hs.flush()
                caplog.clear()
                _freeze(cluster, signal.SIGSTOP)
                try:
                    started = time.monotonic()
                    api = await hs.client.post(
                        "/v1/request/count/query", json={"filter": "all"}, headers=hs.auth()
                    )
                    assert api.status_code == 503, api.text
                    assert api.json() == {
                        "data": None,
                        "error": "the store is unavailable; retry shortly",
                    }
                    assert time.monotonic() - started < 10
                    started = time.monotonic()
                    call = await hs.client.post(
                        "/oai/v1/chat/completions",
                        json={"model": "gpt-4o-mini", "messages": []},
                        headers={
                            "helicone-auth": f"Bearer {unseen[1]}",
                            "authorization": "Bearer sk-fake",
                        },
                    )
                    assert call.status_code == 503, call.text
                    assert "the key store is unavailable" in call.text
                    assert time.monotonic() - started < 10
                    # The writer's batch times out too: it says it is failing.
                    await client.chat.completions.create(model="gpt-4o-mini", messages=[])
                    deadline = time.monotonic() + 15
                    while not hs.services.started.writer.health.failing_since:
                        assert time.monotonic() < deadline, "the writer never reported failing"
                        await asyncio.sleep(0.2)
                finally:
                    _freeze(cluster, signal.SIGCONT)
                await asyncio.wait_for(hs.flush(), timeout=30)
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    unreachable = [m for m in logged if "store unreachable" in m]
    # (A pooled connection's ping times out, then connecting again: two bounds of a second.)
    assert len(unreachable) == 1, logged
    assert re.search(r"StoreTimeout: timed out after [12]\.\d s", unreachable[0]), logged
    assert not any("TimeoutError: ," in m or "TimeoutError: )" in m for m in logged), logged
    assert any("log writer: StoreTimeout: timed out after" in m for m in logged), logged
