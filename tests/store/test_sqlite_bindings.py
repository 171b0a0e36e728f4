"""The SQLite driver binds the writer's common non-text values without its adapter lookups."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from pathlib import Path

from helioscope.store import LogRow, Store
from helioscope.store._engine import create_engine


async def test_none_and_bools_bind_through_registered_adapters(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    await engine.dispose()
    # Without an entry here the driver looks ``__adapt__`` up on a type for every such value
    # (an AttributeError made and dropped): 4% of a proxied call's instructions.
    for kind in (type(None), bool):
        assert (kind, sqlite3.PrepareProtocol) in sqlite3.adapters


def test_the_stored_values_are_what_the_driver_stored_before(tmp_path: Path) -> None:
    # The same NULL, integers 0/1 and text as without the adapters.
    create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (a, b, c)")
    con.execute("INSERT INTO t VALUES (?, ?, ?)", (None, True, False))
    stored = con.execute("SELECT a, typeof(a), b, typeof(b), c FROM t").fetchone()
    assert stored == (None, "null", 1, "integer", 0)
    con.close()


async def test_the_log_writer_stores_booleans_as_integers_or_null(tmp_path: Path) -> None:
    # The bulk upsert hands the driver the row's bools as they are (the adapter makes them
    # integers): stored as 1, 0 and NULL, as a converter of its own stored them.
    store = Store.open(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        await store.migrate()
        row = LogRow(
            request_id=str(uuid.uuid4()),
            organization_id="org",
            request_created_at=dt.datetime.now(dt.UTC),
            status=200,
            provider="OPENAI",
            is_stream=True,
            cache_enabled=False,
            threat=None,
        )
        await store.log.write_batch([row])
        async with store.engine.connect() as conn:
            result = await conn.exec_driver_sql(
                "SELECT is_stream, typeof(is_stream), cache_enabled, typeof(cache_enabled),"
                " typeof(threat) FROM request_response"
            )
            assert result.one() == (1, "integer", 0, "integer", "null")
    finally:
        await store.close()


async def test_the_connection_returned_last_is_handed_out_next(tmp_path: Path) -> None:
    # The log writer's batches then mostly find the connection they used last, with its
    # prepared 100-row upserts and its page cache warm (the default pool hands out the one
    # that waited longest: each batch another connection).
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.connect() as first, engine.connect() as second:
            one = (await first.get_raw_connection()).driver_connection
            two = (await second.get_raw_connection()).driver_connection
            assert one is not two
            await first.close()  # returned first
        # (``second`` was returned last, on leaving the block.)
        for _ in range(3):
            async with engine.connect() as conn:
                assert (await conn.get_raw_connection()).driver_connection is two
    finally:
        await engine.dispose()
