"""HELIOSCOPE_LOG_RETENTION_DAYS: a periodic delete on SQLite/PostgreSQL, a TTL on ClickHouse.

Expired requests go with everything hanging off them (bodies, feedback, scores by key), and
the sessions they belonged to are recomputed; requests inside the retention are untouched.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from pathlib import Path

from helioscope import Settings
from helioscope.ingest.retention import LogRetention
from helioscope.services import open_store
from helioscope.store import LogRow, RequestQuery, SessionQuery, Store, keys
from helioscope.store.clickhouse import ClickHouse
from helioscope.store.log import LogStore, requests, sessions
from helioscope.store.log.retention import delete_expired
from helioscope.testing import FakeProvider
from tests.conftest import settings_for
from tests.running import running

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)


def row(org: str, request_id: str, days_ago: float, session: str | None = None) -> LogRow:
    properties = {"Helicone-Session-Id": session, "Helicone-Session-Name": "s"} if session else {}
    return LogRow(
        request_id=request_id,
        organization_id=org,
        request_created_at=NOW - dt.timedelta(days=days_ago),
        status=200,
        provider="OPENAI",
        model="gpt-4o-mini",
        latency=100,
        cost=1_000,
        properties=properties,
        request_body='{"messages": []}',
        response_body='{"choices": []}',
    )


async def _ids(store: Store, org: str) -> set[str]:
    rows = await store.log.org(org).read(requests.query_requests, RequestQuery(limit=1000))
    return {r["request_id"] for r in rows}


async def test_expired_requests_go_with_their_bodies_scores_and_session_totals(
    store: Store,
) -> None:
    org = (await store.write(keys.get_or_create_org, "acme")).id
    rows = [
        row(org, "old-1", 40, session="mixed"),
        row(org, "old-2", 31, session="gone"),
        row(org, "new-1", 29, session="mixed"),
        row(org, "new-2", 1),
    ]
    await store.log.write_batch(rows)
    log = store.log.org(org)
    await log.write(requests.set_feedback, "old-1", True)
    await log.write(requests.add_scores, "old-1", {"quality": 3})
    await log.write(requests.add_scores, "new-1", {"quality": 5})

    assert await LogRetention(store, 30).trim(NOW) == 2
    assert await _ids(store, org) == {"new-1", "new-2"}
    # Bodies, feedback and scores of the expired rows went in the same transactions.
    async with store.engine.connect() as conn:
        for table in ("request_body", "feedback", "score_value"):
            left = (await conn.exec_driver_sql(f"SELECT request_id FROM {table}")).scalars()
            assert set(left) <= {"new-1", "new-2"}, table
    # The session that kept a request is recomputed; the one that lost all of them is gone.
    found = await log.read(sessions.query_sessions, SessionQuery(limit=10))
    totals = {s["session_id"]: (s["total_requests"], s["created_at"]) for s in found}
    assert totals == {"mixed": (1, NOW - dt.timedelta(days=29))}
    assert await LogRetention(store, 30).trim(NOW) == 0


async def test_deletes_in_batches_until_nothing_is_left(store: Store) -> None:
    org = (await store.write(keys.get_or_create_org, "acme")).id
    await store.log.write_batch([row(org, f"old-{i}", 50 + i) for i in range(7)])
    log = store.log
    assert isinstance(log, LogStore)
    assert await log.write(delete_expired, NOW - dt.timedelta(days=30), 3) == 3
    assert len(await _ids(store, org)) == 4


async def test_the_server_trims_the_log_at_start_up(
    database_url: str, fake: FakeProvider, tmp_path: Path
) -> None:
    store = Store.open(database_url)
    await store.migrate()
    org = (await store.write(keys.get_or_create_org, "acme")).id
    now = dt.datetime.now(dt.UTC)
    old = dataclasses.replace(row(org, "old", 0), request_created_at=now - dt.timedelta(days=9))
    new = dataclasses.replace(row(org, "new", 0), request_created_at=now - dt.timedelta(days=1))
    await store.log.write_batch([old, new])
    await store.close()
    settings = settings_for(database_url, fake, tmp_path).model_copy(
        update={"log_retention_days": 7}
    )
    async with running(settings) as hs:
        for _ in range(200):
            if await _ids(hs.services.store, org) == {"new"}:
                break
            await asyncio.sleep(0.02)
        assert await _ids(hs.services.store, org) == {"new"}


async def test_clickhouse_keeps_retention_as_a_ttl_that_drops_old_months(
    chdb_path: Path, tmp_path: Path
) -> None:
    url = f"chdb://{chdb_path}?database=retention_{tmp_path.name[-8:]}"
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'meta.db'}", clickhouse_url=url, log_retention_days=30
    )
    store = open_store(settings)
    await store.migrate()
    assert store.clickhouse is not None
    clickhouse: ClickHouse = store.clickhouse.clickhouse
    try:
        engine = await clickhouse.query(
            "SELECT engine_full FROM system.tables WHERE database = currentDatabase() "
            "AND name = 'request_response'"
        )
        assert "TTL toDateTime(request_created_at) + toIntervalDay(30)" in engine.rows[0][0]
        now = dt.datetime.now(dt.UTC)
        await store.log.write_batch(
            [
                dataclasses.replace(row("o", "old", 0), request_created_at=now - dt.timedelta(400)),
                dataclasses.replace(row("o", "new", 0), request_created_at=now),
            ]
        )
        # A merge applies the TTL: the expired month's part is dropped whole.
        await clickhouse.command("OPTIMIZE TABLE request_response FINAL")
        assert await _ids(store, "o") == {"new"}
    finally:
        await clickhouse.command(f"DROP DATABASE `{clickhouse.url.database}`")
        await store.close()
