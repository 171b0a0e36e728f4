"""The log writer's SQLite upserts: on the event loop's thread, in slices."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from helioscope.store import LogRow, Store, is_transient
from helioscope.store import _engine as engine_module
from helioscope.store._engine import execute_many
from helioscope.store._runner import Db
from helioscope.store.tables.log import request_response


def _row(n: int) -> LogRow:
    return LogRow(
        request_id=f"req-{n}",
        organization_id="org-1",
        request_created_at=dt.datetime(2026, 12, 7, 4, 0, tzinfo=dt.UTC),
        status=200,
        provider="OPENAI",
        request_body="{}",
        response_body="{}",
    )


async def _sqlite_store(tmp_path: Path) -> Store:
    store = Store.open(f"sqlite:///{tmp_path / 'x.db'}")
    await store.migrate()
    return store


async def test_the_writers_upserts_run_on_the_event_loops_thread(tmp_path: Path) -> None:
    # On aiosqlite's thread each row was a GIL hand-over with the busy event loop.
    store = await _sqlite_store(tmp_path)
    threads: set[int] = set()

    def traced(statement: str) -> None:
        if statement.startswith(("INSERT INTO request_response", "INSERT INTO request_body")):
            threads.add(threading.get_ident())

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.driver_connection._conn.set_trace_callback(traced)

    await store.engine.dispose()  # connections made from here on are traced
    event.listen(store.engine.sync_engine, "connect", on_connect)
    try:
        await store.log.write_batch([_row(n) for n in range(20)])
        assert await store.read(_count) == 20
    finally:
        await store.close()
    assert threads == {threading.get_ident()}


async def _count(db: Db) -> int:
    return int(await db.scalar(select(func.count()).select_from(request_response)))


async def test_rows_go_in_on_this_thread_a_slice_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await _sqlite_store(tmp_path)
    monkeypatch.setattr(engine_module, "_TURN_SECONDS", 0.0)  # yield after every slice
    turns = 0

    async def ticker() -> None:
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    threads: set[int] = set()
    try:
        async with store.engine.begin() as conn:
            raw: Any = (await conn.get_raw_connection()).driver_connection
            connection = raw._conn
            connection.set_trace_callback(lambda _: threads.add(threading.get_ident()))
            await conn.exec_driver_sql("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)")
            task = asyncio.create_task(ticker())
            await asyncio.sleep(0)
            before = turns
            rows = [(n, f"v{n}") for n in range(100)]
            threads.clear()
            await execute_many(conn, "INSERT INTO t (a, b) VALUES (?, ?)", rows)
            task.cancel()
            connection.set_trace_callback(None)
            stored = (await conn.exec_driver_sql("SELECT count(*), max(b) FROM t")).one()
        assert tuple(stored) == (100, "v99")
        assert threads == {threading.get_ident()}  # not aiosqlite's thread
        # 100 rows in slices of 8: the loop ran between them.
        assert turns - before >= 100 // engine_module._SLICE_ROWS
    finally:
        await store.close()


async def test_driver_errors_are_the_engines_so_the_writer_classifies_them(
    tmp_path: Path,
) -> None:
    store = await _sqlite_store(tmp_path)
    try:
        async with store.engine.begin() as conn:
            await conn.exec_driver_sql("CREATE TABLE t (a INTEGER NOT NULL)")
            with pytest.raises(IntegrityError) as refused:
                await execute_many(conn, "INSERT INTO t (a) VALUES (?)", [(1,), (None,)])
            assert not is_transient(refused.value)  # the row's fault: isolated, not retried
            with pytest.raises(OperationalError) as failed:
                await execute_many(conn, "INSERT INTO missing (a) VALUES (?)", [(1,)])
            assert is_transient(failed.value)
    finally:
        await store.close()
