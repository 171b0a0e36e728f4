"""``session_property`` stays exact: each session's totals per property value, never twice.

After every change the table (FINAL: tombstones left out) must hold exactly what grouping the
log's (request, property) pairs by session, name, key and value gives.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from helioscope.store import SessionQuery
from helioscope.store.clickhouse import ClickHouse, ClickHouseLog, migrate
from helioscope.store.clickhouse import _session_properties as session_properties
from helioscope.store.clickhouse import _session_reads as session_reads
from helioscope.store.clickhouse._client import ClickHouseUnavailable
from helioscope.store.log import requests, sessions
from tests.store.clickhouse.failing import fail_once
from tests.store.clickhouse.parity_data import ORG, OTHER, START, log_rows

# The log's (request, property) pairs, one row each, grouped per session, name, key, value.
_FROM_LOG = """
SELECT organization_id, pair.1 AS k, pair.2 AS v, session_id, coalesce(session_name, '') AS n,
       min(request_created_at), max(request_created_at), sum(coalesce(cost, 0)), count(),
       sum(coalesce(prompt_tokens, 0)), sum(coalesce(completion_tokens, 0)),
       sum(coalesce(prompt_tokens, 0)) + sum(coalesce(completion_tokens, 0)),
       sum(coalesce(latency, 0)), countIf(latency IS NOT NULL)
FROM request_response FINAL
ARRAY JOIN arrayZip(mapKeys(properties), mapValues(properties)) AS pair
WHERE session_id IS NOT NULL
  AND lower(pair.1) NOT IN ('helicone-session-id', 'helicone-session-name', 'helicone-session-path')
GROUP BY organization_id, k, v, session_id, n
ORDER BY ALL
"""
_FROM_TABLE = """
SELECT organization_id, key, value, session_id, session_name, created_at,
       latest_request_created_at, total_cost, total_requests, prompt_tokens, completion_tokens,
       total_tokens, latency_sum, latency_count
FROM session_property FINAL
ORDER BY ALL
"""


async def _assert_exact(clickhouse: ClickHouse) -> int:
    """The table equals the log grouped per session and property value; how many groups."""
    want = [tuple(r) for r in (await clickhouse.query(_FROM_LOG)).rows]
    got = [tuple(r) for r in (await clickhouse.query(_FROM_TABLE)).rows]
    assert got == want
    return len(got)


async def test_batches_replays_rewrites_and_edits_keep_it_exact(clickhouse: ClickHouse) -> None:
    log = ClickHouseLog(clickhouse)
    rows = log_rows() + log_rows(OTHER, 40)
    await log.write_batch(rows[:100])
    assert await _assert_exact(clickhouse) > 20
    await log.write_batch(rows[100:])  # sessions shared with the first batch are added to
    await _assert_exact(clickhouse)
    await log.write_batch(rows[50:150])  # a replay: recomputed, not added again
    await _assert_exact(clickhouse)
    # Rows sent again with other values: costs, another property value, another session, and
    # a row that loses its properties (its pairs leave their groups).
    moved = [
        dataclasses.replace(
            r,
            cost=(r.cost or 0) + 9,
            properties={**r.properties, "env": "moved", "Helicone-Session-Id": "session-new"},
        )
        for r in rows[:15]
    ]
    moved += [dataclasses.replace(r, properties={}) for r in rows[15:20]]
    fresh = [
        dataclasses.replace(rows[0], request_id=f"fresh-{i}", request_created_at=START)
        for i in range(3)
    ]
    await log.write_batch(moved + fresh)
    await _assert_exact(clickhouse)
    # Edits: a property's value, a session moved by its id, a session's feedback (a property
    # of its first request).
    await log.org(ORG).write(requests.set_property, rows[30].request_id, "env", "edited")
    await log.org(ORG).write(requests.set_property, rows[31].request_id, "feature", "new-key")
    await log.org(ORG).write(
        requests.set_property, rows[32].request_id, "Helicone-Session-Id", "session-edited"
    )
    await log.org(ORG).write(sessions.set_session_feedback, "session-02", True)
    await _assert_exact(clickhouse)


def _failing_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next batch's new rows fail to reach the table after its log insert."""
    message = "the session_property insert failed"
    fail_once(monkeypatch, session_properties, "add_new_rows", message)


async def test_a_batch_failing_after_its_log_insert_is_made_exact_by_its_replay(
    clickhouse: ClickHouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = ClickHouseLog(clickhouse)
    rows = log_rows()
    await log.write_batch(rows[:100])
    _failing_once(monkeypatch)
    with pytest.raises(ClickHouseUnavailable):
        await log.write_batch(rows[100:200])
    # The journal replays the batch (after a restart, with other boundaries): its rows are
    # in the log, so their sessions are recomputed from it.
    await ClickHouseLog(clickhouse).write_batch(rows[90:200])
    assert await _assert_exact(clickhouse) > 20


@pytest.mark.parametrize("rows_per_part", [1_000_000, 50])
async def test_migrating_an_older_log_fills_it(
    clickhouse: ClickHouse, monkeypatch: pytest.MonkeyPatch, rows_per_part: int
) -> None:
    # In one part, and in several (a session's rows in one of them: its totals whole).
    monkeypatch.setattr(session_properties, "REBUILD_ROWS", rows_per_part)
    await ClickHouseLog(clickhouse).write_batch(log_rows())
    await clickhouse.command("DROP TABLE session_property")
    await migrate(clickhouse)
    assert await _assert_exact(clickhouse) > 20


async def test_the_page_reads_the_table_for_one_property(
    clickhouse: ClickHouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = ClickHouseLog(clickhouse)
    await log.write_batch(log_rows())
    db = log.db(ORG)
    prod = {"request_response_rmt": {"properties": {"env": {"equals": "prod"}}}}
    costly = {"sessions_request_response_rmt": {"session_total_requests": {"gte": 2}}}
    window = (START + dt.timedelta(hours=5, minutes=3), START + dt.timedelta(days=2))
    query = SessionQuery(
        filter={"left": costly, "operator": "and", "right": prod}, start=window[0], end=window[1]
    )
    want = await sessions.query_sessions(db, query)
    aggregated: list[Any] = []
    aggregate = sessions.aggregate

    async def counted(*args: Any) -> list[dict[str, Any]]:
        aggregated.append(args[3] if len(args) > 3 else None)
        return await aggregate(*args)

    monkeypatch.setattr(sessions, "aggregate", counted)
    got = await session_reads.query_sessions(db, query)
    assert got == want and len(got) > 3
    # The log was read only for the sessions straddling the window's edges.
    assert aggregated and all(ids is not None for ids in aggregated)
    # With more straddlers than the log should add, or a page cut short, the store's function.
    for most in (1, 0):
        monkeypatch.setattr(session_reads, "MAX_STRADDLING", most)
        assert await session_reads.query_sessions(db, query) == want
        assert aggregated[-1] is None  # the whole log, grouped
