"""``request_property`` stays exact: replays, reused ids and edits count a property once.

The property reads of ``_reads`` answer from the table; the store's own functions, run on the
same ClickHouse, read every log row's Map (FINAL): the two must agree after every change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from helioscope.store import TimeWindow
from helioscope.store.clickhouse import ClickHouse, ClickHouseLog, insert_log_rows, migrate
from helioscope.store.clickhouse import _reads as ch_reads
from helioscope.store.log import properties, requests
from tests.store.test_filters import NOW, row

ORG = "org-props"
WINDOW = TimeWindow(NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=1))


def _batch(**props: str) -> list[Any]:
    return [
        row(f"r{i}", ORG, cost=1_000_000 * (i + 1), properties={"env": "prod", **props})
        for i in range(3)
    ]


async def _both(log: ClickHouseLog, key: str) -> tuple[Any, Any]:
    """The top values of ``key`` by requests: (from the Map, from request_property)."""
    db = log.db(ORG)
    from_map = await properties.top_values(db, key, WINDOW, "requests")
    from_table = await ch_reads.top_values(db, key, WINDOW, "requests")
    return from_map, from_table


async def test_a_replayed_batch_counts_once(ch_log: ClickHouseLog) -> None:
    batch = _batch(feature="search")
    await ch_log.write_batch(batch)
    await ch_log.write_batch(batch)
    from_map, from_table = await _both(ch_log, "env")
    assert from_table == from_map == ([{"value": "prod", "requests": 3}], 3.0)
    cost = await ch_reads.top_values(ch_log.db(ORG), "feature", WINDOW, "cost")
    assert cost == ([{"value": "search", "cost": 0.006}], 0.006)


async def test_a_key_the_new_version_lacks_is_no_longer_counted(ch_log: ClickHouseLog) -> None:
    await ch_log.write_batch(_batch(feature="search"))
    # The same rows (same time and id) written again without "feature", and with a new env.
    rewritten = [row(f"r{i}", ORG, properties={"env": "dev"}) for i in range(2)]
    await ch_log.write_batch(rewritten)
    for key in ("env", "feature"):
        from_map, from_table = await _both(ch_log, key)
        assert from_table == from_map, key
    assert (await _both(ch_log, "feature"))[1] == ([{"value": "search", "requests": 1}], 1.0)
    values = await ch_reads.search_values(ch_log.db(ORG), "env", "")
    assert values == ["dev", "prod"]


async def test_a_reused_id_at_another_time_is_another_row(ch_log: ClickHouseLog) -> None:
    await ch_log.write_batch(_batch(feature="search"))
    later = NOW + dt.timedelta(minutes=5)
    # The log keeps both rows (its identity is (org, time, id)): so does the property table.
    # The batch spans both times, so the replaced-row check does see the earlier r0.
    again = row("r1", ORG, cost=2_000_000, properties={"env": "prod", "feature": "search"})
    await insert_log_rows(ch_log.clickhouse, [again, row("r0", ORG, request_created_at=later)])
    from_map, from_table = await _both(ch_log, "feature")
    assert from_table == from_map == ([{"value": "search", "requests": 3}], 3.0)


async def test_an_edit_moves_the_count(ch_log: ClickHouseLog) -> None:
    await ch_log.write_batch(_batch())
    await ch_log.org(ORG).write(requests.set_property, "r1", "env", "staging")
    await ch_log.org(ORG).write(requests.set_property, "r1", "env", "canary")
    await ch_log.org(ORG).write(requests.set_property, "r2", "team", "blue")
    from_map, from_table = await _both(ch_log, "env")
    assert from_table == from_map
    assert from_table[0] == [{"value": "prod", "requests": 2}, {"value": "canary", "requests": 1}]
    assert (await _both(ch_log, "team"))[1] == ([{"value": "blue", "requests": 1}], 1.0)


async def test_the_runner_reads_the_table(ch_log: ClickHouseLog) -> None:
    await ch_log.write_batch(_batch(feature="search"))
    # Rows in the log only (as a log written before the tables existed): the call sites'
    # form (store.log.org(org).read(properties.…)) answers from the tables, which are empty.
    await ch_log.clickhouse.command("TRUNCATE TABLE request_property")
    runner = ch_log.org(ORG)
    assert await runner.read(properties.search_values, "feature", "") == []
    # Top values read the window's whole hours from the rollup, the edges from the table.
    top = await runner.read(properties.top_values, "feature", WINDOW, "cost")
    assert top == ([{"value": "search", "cost": 0.006}], 0.006)
    await ch_log.clickhouse.command("TRUNCATE TABLE property_hour")
    assert await runner.read(properties.top_values, "feature", WINDOW, "cost") == ([], 0.0)


async def test_migrating_an_older_log_fills_the_table(clickhouse: ClickHouse) -> None:
    log = ClickHouseLog(clickhouse)
    await log.write_batch(_batch(feature="search"))
    await log.org(ORG).write(requests.set_property, "r1", "env", "staging")
    # A log from before the table: migrate creates it and fills it from the log's rows.
    await clickhouse.command("DROP TABLE request_property")
    await migrate(clickhouse)
    for key in ("env", "feature"):
        from_map, from_table = await _both(log, key)
        assert from_table == from_map, key
    assert (await _both(log, "env"))[1][1] == 3.0
