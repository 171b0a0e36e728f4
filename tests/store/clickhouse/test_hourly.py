"""``request_hour`` stays exact: signed deltas for new and rewritten rows, never twice.

After every change the rollup must hold exactly what grouping the log (FINAL) by hour gives.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from helioscope.store import TimeWindow
from helioscope.store.clickhouse import ClickHouse, ClickHouseLog, insert_log_rows, migrate
from helioscope.store.clickhouse import _deltas as deltas
from helioscope.store.clickhouse import _hourly_reads as hourly_reads
from helioscope.store.clickhouse._client import ClickHouseUnavailable
from helioscope.store.clickhouse._ddl import HOURLY_SUMS, USER_HOUR_SUMS
from helioscope.store.clickhouse._hourly import SUMMED
from helioscope.store.log import metrics, requests, users
from tests.store.clickhouse.failing import fail_once
from tests.store.clickhouse.parity_data import ORG, OTHER, START, log_rows
from tests.store.test_filters import row

_HOUR = "toDateTime(toStartOfHour(request_created_at), 'UTC') AS hour"
_IN_ROLLUP = "toYear(request_created_at) BETWEEN 1970 AND 2105"
_PROPERTIES = "ARRAY JOIN mapKeys(properties) AS k, mapValues(properties) AS v"
_NOT_SESSION = "lower(k) NOT LIKE 'helicone-session-%'"
# Each rollup as the log grouped by hour gives it, and as stored (its groups' net sums).
_FROM_LOG = {
    "request_hour": (
        f"SELECT organization_id, {_HOUR}, model, provider, status, "
        + ", ".join(f"sum(toInt64({SUMMED[name]}))" for name in HOURLY_SUMS)
        + f" FROM request_response FINAL WHERE {_IN_ROLLUP} "
        "GROUP BY organization_id, hour, model, provider, status ORDER BY ALL"
    ),
    "user_hour": (
        f"SELECT organization_id, {_HOUR}, user_id AS uid, "
        + ", ".join(f"sum(toInt64({SUMMED[name]}))" for name in USER_HOUR_SUMS)
        + f" FROM request_response FINAL WHERE {_IN_ROLLUP} AND user_id IS NOT NULL "
        "GROUP BY organization_id, hour, uid ORDER BY ALL"
    ),
    "property_hour": (
        f"SELECT organization_id, k, {_HOUR}, v, "
        + ", ".join(f"sum(toInt64({sql}))" for sql in SUMMED.values())
        + f" FROM request_response FINAL {_PROPERTIES} WHERE {_IN_ROLLUP} AND {_NOT_SESSION} "
        "GROUP BY organization_id, k, hour, v ORDER BY ALL"
    ),
    "property_user_hour": (
        f"SELECT organization_id, k, v, {_HOUR}, user_id AS uid, count() "
        f"FROM request_response FINAL {_PROPERTIES} WHERE {_IN_ROLLUP} AND {_NOT_SESSION} "
        "AND user_id IS NOT NULL GROUP BY organization_id, k, v, hour, uid ORDER BY ALL"
    ),
    "latency_hour": (
        f"SELECT organization_id, {_HOUR}, latency AS ms, count() FROM request_response FINAL "
        f"WHERE {_IN_ROLLUP} AND latency IS NOT NULL "
        "GROUP BY organization_id, hour, ms ORDER BY ALL"
    ),
}
_FROM_ROLLUP = {
    "request_hour": (
        f"SELECT organization_id, hour, model, provider, status, {', '.join(HOURLY_SUMS)} "
        "FROM request_hour FINAL WHERE requests > 0 ORDER BY ALL"
    ),
    "user_hour": (
        f"SELECT organization_id, hour, user_id, {', '.join(USER_HOUR_SUMS)} "
        "FROM user_hour FINAL WHERE requests > 0 ORDER BY ALL"
    ),
    "property_hour": (
        f"SELECT organization_id, key, hour, value, {', '.join(SUMMED)} "
        "FROM property_hour FINAL WHERE requests > 0 ORDER BY ALL"
    ),
    "property_user_hour": (
        "SELECT organization_id, key, value, hour, user_id, requests "
        "FROM property_user_hour FINAL WHERE requests > 0 ORDER BY ALL"
    ),
    "latency_hour": (
        "SELECT organization_id, hour, latency, requests FROM latency_hour FINAL "
        "WHERE requests > 0 ORDER BY ALL"
    ),
}


async def _assert_exact(clickhouse: ClickHouse) -> int:
    """Both rollups equal the log grouped by hour; the number of ``request_hour`` groups."""
    groups = {}
    for table, sql in _FROM_LOG.items():
        want = (await clickhouse.query(sql)).rows
        got = (await clickhouse.query(_FROM_ROLLUP[table])).rows
        assert [tuple(r) for r in got] == [tuple(r) for r in want], table
        groups[table] = len(got)
    return groups["request_hour"]


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


async def test_migrating_the_rollup_of_whole_sums_rebuilds_it_as_deltas(
    clickhouse: ClickHouse,
) -> None:
    await ClickHouseLog(clickhouse).write_batch(log_rows())
    await clickhouse.command("DROP TABLE request_hour")
    # The rollup's earlier form: whole sums per group, versioned.
    await clickhouse.command(
        "CREATE TABLE request_hour (organization_id String, hour DateTime, requests Int64, "
        "version DateTime64(6)) ENGINE = ReplacingMergeTree(version) ORDER BY organization_id"
    )
    await migrate(clickhouse)
    engine = await clickhouse.query(
        "SELECT engine FROM system.tables WHERE database = currentDatabase() "
        "AND name = 'request_hour'"
    )
    assert engine.rows[0][0] == "SummingMergeTree"
    assert await _assert_exact(clickhouse) > 10


async def test_migrating_the_rollup_grouped_by_user_splits_it(clickhouse: ClickHouse) -> None:
    await ClickHouseLog(clickhouse).write_batch(log_rows())
    await clickhouse.command("DROP TABLE request_hour")
    # The rollup's form before user_hour: deltas grouped by user too (every other table is
    # current, so only the rollup's sort key tells).
    await clickhouse.command(
        "CREATE TABLE request_hour (organization_id String, hour DateTime, has_user UInt8, "
        "user_id String, requests Int64) ENGINE = SummingMergeTree((requests)) "
        "ORDER BY (organization_id, hour, has_user, user_id)"
    )
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


async def _parts_rows(clickhouse: ClickHouse) -> int:
    """Rows stored in the rollup's parts (every delta written, before merges)."""
    return int((await clickhouse.query("SELECT count() FROM request_hour")).rows[0][0])


async def test_a_replay_and_edited_rows_are_deltas_that_keep_totals_exact(
    clickhouse: ClickHouse,
) -> None:
    log = ClickHouseLog(clickhouse)
    rows = log_rows()
    await log.write_batch(rows)
    await _assert_exact(clickhouse)
    written = await _parts_rows(clickhouse)
    await log.write_batch(rows)  # a replay: every delta is zero, nothing is written
    await _assert_exact(clickhouse)
    assert await _parts_rows(clickhouse) == written
    # Rows sent again with other values (cost, tokens, latency, and a move to another model,
    # status and user): each subtracts its stored version and adds the new one.
    edited = [
        dataclasses.replace(r, cost=(r.cost or 0) + 7, prompt_tokens=3, latency=None)
        for r in rows[:30]
    ]
    edited += [
        dataclasses.replace(r, model="moved", status=503, user_id="zed", threat=True)
        for r in rows[30:40]
    ]
    await log.write_batch(edited + [row("fresh", ORG, request_created_at=START)])
    await _assert_exact(clickhouse)
    # An edit of a logged row (a property) changes no summed column; a replay after it
    # subtracts what the edit left, which is what was added.
    await log.org(ORG).write(requests.set_property, rows[0].request_id, "env", "edited")
    await log.write_batch(edited)
    await _assert_exact(clickhouse)
    db = log.db(ORG)
    window = TimeWindow(START + dt.timedelta(minutes=30), START + dt.timedelta(days=2))
    assert await hourly_reads.totals(db, "all", window) == await metrics.totals(db, "all", window)


def _failing_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next batch's rollup deltas fail after its log insert (as a crash there would)."""
    fail_once(monkeypatch, deltas, "add_deltas", "the rollup insert failed")


async def test_a_batch_failing_after_its_log_insert_is_healed_before_the_next(
    clickhouse: ClickHouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = ClickHouseLog(clickhouse)
    rows = log_rows()
    await log.write_batch(rows[:100])
    _failing_once(monkeypatch)
    with pytest.raises(ClickHouseUnavailable):
        await log.write_batch(rows[50:200])  # in the log, its deltas not in the rollup
    # The retry finds the rows in the log; without healing it would subtract sums never added.
    await log.write_batch(rows[50:200])
    assert await _assert_exact(clickhouse) > 10


async def test_a_new_log_heals_a_batch_cut_by_a_crash(
    clickhouse: ClickHouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = log_rows()
    await ClickHouseLog(clickhouse).write_batch(rows[:100])
    _failing_once(monkeypatch)
    with pytest.raises(ClickHouseUnavailable):
        await ClickHouseLog(clickhouse).write_batch(rows[100:])
    # After a restart, the journal replays the batch into a new log (part of it, here).
    await ClickHouseLog(clickhouse).write_batch(rows[150:])
    assert await _assert_exact(clickhouse) > 10


async def test_an_edit_failing_after_its_log_insert_heals_the_rollups(
    clickhouse: ClickHouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = ClickHouseLog(clickhouse)
    rows = log_rows()
    await log.write_batch(rows)
    _failing_once(monkeypatch)
    with pytest.raises(ClickHouseUnavailable):
        # The row is stored with its new value; the property rollups' deltas fail.
        await log.org(ORG).write(requests.set_property, rows[0].request_id, "env", "healed")
    assert await _assert_exact(clickhouse) > 10
