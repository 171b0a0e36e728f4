"""The log writer: a locked or missing store never fails the call and never loses a record."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from helioscope._guard import InternalErrorGuard
from helioscope.ingest import LogWriter
from helioscope.store import LogRow, Store, keys
from helioscope.store.log import requests
from tests.conftest import Running
from tests.gateway.clients import openai_client, stored


def row(org: str, **overrides: object) -> LogRow:
    values: dict[str, object] = {
        "request_id": str(uuid.uuid4()),
        "organization_id": org,
        "request_created_at": dt.datetime.now(dt.UTC),
        "status": 200,
        "provider": "OPENAI",
        "model": "gpt-4o-mini",
    }
    values.update(overrides)
    return LogRow(**values)  # type: ignore[arg-type]


@asynccontextmanager
async def locked_log_table(database_url: str) -> AsyncIterator[None]:
    """Hold a lock that blocks every write to the request log until the block exits."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(str(url.database), isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = create_async_engine(url.set(drivername="postgresql+asyncpg"))
    async with engine.connect() as pg:
        transaction = await pg.begin()
        await pg.execute(text("LOCK TABLE request_response IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            await transaction.rollback()
    await engine.dispose()


async def count_rows(store: Store, org: str) -> int:
    async with store.engine.connect() as conn:
        result = await conn.execute(
            text("SELECT count(*) FROM request_response WHERE organization_id = :org"),
            {"org": org},
        )
        return int(result.scalar_one())


async def test_locked_store_does_not_fail_the_call(helioscope: Running) -> None:
    async with openai_client(helioscope) as client:
        await client.chat.completions.create(model="gpt-4o-mini", messages=[])  # warm the key
        await helioscope.flush()
        async with locked_log_table(helioscope.services.settings.database_url):
            raw = await asyncio.wait_for(
                client.chat.completions.with_raw_response.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": "while locked"}]
                ),
                timeout=5,
            )
            assert raw.parse().choices[0].message.content.startswith("Hello")  # type: ignore[union-attr]
            await asyncio.sleep(0.3)
            assert helioscope.services.started.writer.pending >= 1
    row_ = await stored(helioscope, raw.headers["helicone-id"])
    assert row_["status"] == 200


async def test_overflow_spools_to_disk_and_is_written_later(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    org = (await store.write(keys.get_or_create_org, "acme")).id
    guard = InternalErrorGuard(reraise=True)
    writer = LogWriter(
        store,
        spool_dir=tmp_path / "spool",
        guard=guard,
        queue_size=2,
        retry_seconds=0.05,
        max_retry_seconds=0.2,
    )
    async with writer:
        async with locked_log_table(database_url):
            for _ in range(10):
                writer.enqueue(row(org))
            assert writer.spooled >= 7
            assert list((tmp_path / "spool").glob("segment-*.jsonl"))
        await writer.flush()
    assert await count_rows(store, org) == 10
    assert not list((tmp_path / "spool").glob("segment-*.jsonl"))


async def test_store_down_at_shutdown_keeps_records_for_the_next_start(
    database_url: str, tmp_path: Path
) -> None:
    unreachable = _unreachable_url(database_url, tmp_path)
    down = Store.open(unreachable)
    guard = InternalErrorGuard(reraise=True)
    spool = tmp_path / "spool"
    rows = [row("org-1") for _ in range(5)]
    async with LogWriter(
        down,
        spool_dir=spool,
        guard=guard,
        retry_seconds=0.05,
        max_retry_seconds=0.2,
        drain_seconds=0.3,
    ) as writer:
        for r in rows:
            writer.enqueue(r)
        await asyncio.sleep(0.1)
    await down.close()
    assert sum(p.read_bytes().count(b"\n") for p in spool.glob("segment-*.jsonl")) == 5

    up = Store.open(database_url)
    await up.migrate()
    async with LogWriter(up, spool_dir=spool, guard=guard) as writer:
        await writer.flush()
    assert await count_rows(up, "org-1") == 5
    stored_row = await up.log.org("org-1").read(requests.get_request, rows[0].request_id)
    assert stored_row is not None and stored_row["model"] == "gpt-4o-mini"
    await up.close()


async def test_store_that_comes_back_gets_the_waiting_records(
    database_url: str, tmp_path: Path
) -> None:
    """The store is unreachable when the records arrive and reachable later: all get written."""
    url = _unreachable_url(database_url, tmp_path)
    store = Store.open(url)
    guard = InternalErrorGuard(reraise=True)
    async with LogWriter(
        store, spool_dir=tmp_path / "spool", guard=guard, retry_seconds=0.05, max_retry_seconds=0.2
    ) as writer:
        for _ in range(3):
            writer.enqueue(row("org-2"))
        await asyncio.sleep(0.2)
        assert writer.pending == 3
        await _bring_up(url, database_url, tmp_path)
        await asyncio.wait_for(writer.flush(), timeout=10)
    assert await count_rows(store, "org-2") == 3
    await store.close()
    await _tear_down(url, database_url)


async def test_a_bad_row_cannot_block_the_others(store: Store, tmp_path: Path) -> None:
    guard = InternalErrorGuard(reraise=False)  # production behaviour: report and carry on
    spool = tmp_path / "spool"
    async with LogWriter(store, spool_dir=spool, guard=guard) as writer:
        writer.enqueue(row("org-3"))
        writer.enqueue(row("org-3", status=None))  # violates NOT NULL
        writer.enqueue(row("org-3"))
        await writer.flush()
    assert await count_rows(store, "org-3") == 2
    assert guard.count == 1
    assert (spool / "dead-letter.jsonl").read_bytes().count(b"\n") == 1


async def test_under_tests_a_bad_row_fails_loudly(store: Store, tmp_path: Path) -> None:
    guard = InternalErrorGuard(reraise=True)
    writer = LogWriter(store, spool_dir=tmp_path / "spool", guard=guard)
    with pytest.raises(IntegrityError, match="(?i)null"):
        async with writer:
            writer.enqueue(row("org-4", status=None))
            await writer.flush()


def _unreachable_url(database_url: str, tmp_path: Path) -> str:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{tmp_path / 'not-yet' / 'helioscope.db'}"
    return url.set(database=f"later_{uuid.uuid4().hex[:8]}").render_as_string(False)


async def _admin(database_url: str, sql: str) -> None:
    engine = create_async_engine(
        make_url(database_url).set(drivername="postgresql+asyncpg"), isolation_level="AUTOCOMMIT"
    )
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


async def _bring_up(url: str, database_url: str, tmp_path: Path) -> None:
    # Built under another name and renamed when complete: the writer, retrying meanwhile, must
    # never see a half-migrated store (a missing table is the rows' fault, not a transient).
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        building = tmp_path / "building"
        building.mkdir()
        store = Store.open(f"sqlite:///{building / 'helioscope.db'}")
        await store.migrate()
        await store.close()
        building.rename(tmp_path / "not-yet")
        return
    staging = f"{parsed.database}_building"
    await _admin(database_url, f'CREATE DATABASE "{staging}"')
    store = Store.open(parsed.set(database=staging).render_as_string(False))
    await store.migrate()
    await store.close()
    await _admin(database_url, f'ALTER DATABASE "{staging}" RENAME TO "{parsed.database}"')


async def _tear_down(url: str, database_url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        await _admin(database_url, f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
