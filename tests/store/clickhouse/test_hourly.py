"""``request_hour`` stays exact: new rows add, replays and reused ids recompute, never twice.

After every change the rollup must hold exactly what grouping the log (FINAL) by hour gives.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from helioscope.store import TimeWindow
from helioscope.store.clickhouse import ClickHouse, ClickHouseLog, insert_log_rows, migrate
from helioscope.store.clickhouse import _hourly_reads as hourly_reads
from helioscope.store.clickhouse._ddl import HOURLY_SUMS
from helioscope.store.clickhouse._hourly import SUMMED
from helioscope.store.log import metrics, users
from tests.store.clickhouse.parity_data import OTHER, START, log_rows
from tests.store.test_filters import row

_GROUP = "organization_id, hour, model, provider, status, has_user, user_id"
_FROM_LOG = (
    "SELECT organization_id, toDateTime(toStartOfHour(request_created_at), 'UTC') AS hour, "
    "model, provider, status, toUInt8(user_id IS NOT NULL) AS has_user, "
    "coalesce(user_id, '') AS uid, "
    + ", ".join(f"sum(toInt64({sql}))" for sql in SUMMED.values())
    + " FROM request_response FINAL WHERE toYear(request_created_at) BETWEEN 1970 AND 2105 "
    "GROUP BY organization_id, hour, model, provider, status, has_user, uid ORDER BY ALL"
)
_FROM_ROLLUP = (
    f"SELECT {_GROUP}, {', '.join(HOURLY_SUMS)} FROM request_hour FINAL "
    "WHERE requests > 0 ORDER BY ALL"
)


async def _assert_exact(clickhouse: ClickHouse) -> int:
    want = (await clickhouse.query(_FROM_LOG)).rows
    got = (await clickhouse.query(_FROM_ROLLUP)).rows
    assert [tuple(r) for r in got] == [tuple(r) for r in want]
    return len(got)


async def test_batches_replays_and_rewrites_keep_it_exact(clickhouse: ClickHouse) -> None:
    log = ClickHouseLog(clickhouse)
    rows = log_rows() + log_rows(OTHER, 40)
    await log.write_batch(rows[:100])
    assert await _assert_exact(clickhouse) > 10
    await log.write_batch(rows[100:])  # hours shared with the first batch get added to
    await _assert_exact(clickhouse)
    await log.write_batch(rows[50:150])  # a replay: recomputed, not added again
    await _assert_exact(clickhouse)
    # Rewritten rows that move to another group (model, status, user), in a batch with new ones.
    moved = [dataclasses.replace(r, model="moved", status=503, user_id=None) for r in rows[:20]]
    fresh = [row(f"new-{i}", rows[0].organization_id, request_created_at=START) for i in range(5)]
    await log.write_batch(moved + fresh)
    await _assert_exact(clickhouse)
    # The reads see each group's newest version only (FINAL inside their UNION ALL), as the
    # store's functions over the log (FINAL) do, with the rollup's parts still unmerged.
    db = log.db(rows[0].organization_id)
    window = TimeWindow(START + dt.timedelta(minutes=30), START + dt.timedelta(days=2))
    assert await hourly_reads.totals(db, "all", window) == await metrics.totals(db, "all", window)
    by_model = await metrics.breakdown(db, "all", window, "model", 0, 10)
    assert await hourly_reads.breakdown(db, "all", window, "model", 0, 10) == by_model
    per_user = sorted(map(repr, await users.per_user_values(db, "all")))
    assert sorted(map(repr, await hourly_reads.per_user_values(db, "all"))) == per_user


async def test_a_reused_id_at_another_time_counts_both_rows(clickhouse: ClickHouse) -> None:
    first = row("r0", "org", request_created_at=START, cost=10)
    await insert_log_rows(clickhouse, [first])
    later = dataclasses.replace(first, request_created_at=START + dt.timedelta(hours=2))
    # Earlier than r0: the batch spans r0's first time, so the replaced-row check finds it.
    other = row("r1", "org", request_created_at=START - dt.timedelta(minutes=5))
    await insert_log_rows(clickhouse, [other, later])
    assert await _assert_exact(clickhouse) == 3


async def test_migrating_an_older_log_fills_it(clickhouse: ClickHouse) -> None:
    await ClickHouseLog(clickhouse).write_batch(log_rows())
    await clickhouse.command("DROP TABLE request_hour")
    await migrate(clickhouse)
    assert await _assert_exact(clickhouse) > 10


async def test_nul_in_text_and_times_outside_the_rollup(clickhouse: ClickHouse) -> None:
    old = dt.datetime(1965, 5, 1, 12, 30, tzinfo=dt.UTC)
    rows = [
        row("a", "org", model="m\x00", user_id="u\x00", cost=5),
        row("b", "org", user_id="u\x00", request_created_at=old, cost=7),
        row("c", "org", user_id="v", cost=11),
    ]
    await insert_log_rows(clickhouse, rows)
    await insert_log_rows(clickhouse, [row("d", "org", model="m\x00", user_id="u\x00")])
    assert await _assert_exact(clickhouse) == 2  # the 1965 row is not in the rollup
    db = ClickHouseLog(clickhouse).db("org")
    want = sorted(map(repr, await users.per_user_values(db, "all")))
    assert sorted(map(repr, await hourly_reads.per_user_values(db, "all"))) == want
    assert len(want) == 2
