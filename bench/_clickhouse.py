"""ClickHouse for the benchmarks: a log of N calls generated inside ClickHouse, fast.

``fill`` writes the same shape of log as ``bench/query.py``'s ``make_rows`` (30 days, sessions
of consecutive calls, 3,000 users, 40 features, 3% errors, bodies of the same size), but builds
the rows in ClickHouse from ``numbers()``, a few million at a time: 10,000,000 rows take about a
minute instead of the hour Python objects would.
"""

from __future__ import annotations

import datetime as dt
import time

from helioscope.store.clickhouse import TABLES, ClickHouse, migrate
from helioscope.store.clickhouse import _hourly as hourly
from helioscope.store.clickhouse import _properties as request_properties
from helioscope.store.clickhouse import _session_properties as session_properties
from helioscope.store.clickhouse import _sessions as session_totals
from helioscope.store.clickhouse._insert import COLUMN_NAMES

_CHUNK = 2_000_000

# Columns the generated rows set; every other column of the log is left NULL / default.
_GENERATED = {
    "organization_id": "{org:String}",
    "request_id": "concat(leftPad(toString(number), 8, '0'), '-0000-4000-8000-000000000000')",
    # number / total first: number * span_us overflows 64 bits past 3.5M rows.
    "request_created_at": "fromUnixTimestamp64Micro("
    "toInt64({start_us:Int64} + number / {total:Int64} * {span_us:Int64}), 'UTC')",
    "status": "if(cityHash64(number, 3) % 100 < 3, 500, 200)",
    "provider": "'OPENAI'",
    "model": "['gpt-4o-mini', 'gpt-4o', 'claude-3-5-sonnet-20241022', 'o3-mini'][number % 4 + 1]",
    "latency": "toInt64(200 + cityHash64(number, 4) % 8801)",
    "user_id": "concat('user-', toString(session % 3000))",
    "prompt_tokens": "prompt",
    "completion_tokens": "completion",
    "total_tokens": "prompt + completion",
    "cost": "prompt * 150 + completion * 600",
    "properties": "map('env', ['prod', 'staging', 'dev'][number % 3 + 1], "
    "'feature', concat('feature-', toString(number % 40)), "
    "'Helicone-Session-Id', session_id, 'Helicone-Session-Name', session_name, "
    "'Helicone-Session-Path', session_path)",
    "updated_at": "now64(6, 'UTC')",
    "session_id": "session_id",
    "session_name": "session_name",
    "session_path": "session_path",
    "request_body": 'concat(\'{"model": "\', model, \'", "messages": [{"role": "system", '
    '"content": "You are a helpful travel assistant. Answer briefly and cite sources where '
    'possible."}, {"role": "user", "content": "Plan day \', toString(number % 30), '
    "' of my trip to Lisbon: museums, food, and a walk by the river. ', "
    "repeat('x', cityHash64(number, 5) % 301), '\"}], \"temperature\": 0.7}')",
    "response_body": 'concat(\'{"id": "chatcmpl-\', toString(number), \'", "object": '
    '"chat.completion", "model": "\', model, \'", "choices": [{"index": 0, "message": '
    '{"role": "assistant", "content": "Morning: Gulbenkian museum. Lunch: Time Out '
    "Market. Afternoon: walk from Cais do Sodre to Belem along the Tagus. ', "
    'repeat(\'y\', cityHash64(number, 6) % 301), \'"}, "finish_reason": "stop"}], '
    '"usage": {"prompt_tokens": \', toString(prompt), \', "completion_tokens": \', '
    "toString(completion), '}}')",
}


def _select() -> str:
    columns = [name for name in COLUMN_NAMES if name in _GENERATED]
    values = ",\n  ".join(f"{_GENERATED[name]} AS {name}" for name in columns)
    return (
        f"INSERT INTO request_response ({', '.join(columns)})\n"
        f"SELECT\n  {values}\nFROM (\n"
        "  SELECT number,\n"
        "    intDiv(number * {sessions:Int64}, {total:Int64}) AS session,\n"
        "    ['gpt-4o-mini', 'gpt-4o', 'claude-3-5-sonnet-20241022', 'o3-mini'][number % 4 + 1]"
        " AS model,\n"
        "    toInt64(50 + cityHash64(number, 1) % 1951) AS prompt,\n"
        "    toInt64(10 + cityHash64(number, 2) % 791) AS completion,\n"
        "    concat('session-', leftPad(toString(session), 6, '0')) AS session_id,\n"
        "    concat('Trip planner ', toString(session % 25)) AS session_name,\n"
        "    concat('/step/', toString(number % 7)) AS session_path\n"
        "  FROM numbers({first:UInt64}, {count:UInt64})\n)"
    )


async def count(clickhouse: ClickHouse, org: str) -> int:
    """Rows of ``org`` in the log."""
    rows = await clickhouse.query(
        "SELECT count() FROM request_response FINAL WHERE organization_id = {org:String}",
        {"org": org},
    )
    return int(rows.rows[0][0])


async def fill(
    clickhouse: ClickHouse, org: str, total: int, sessions: int, now: dt.datetime
) -> None:
    """Generate ``total`` calls of ``org`` over the 30 days before ``now``."""
    span_us = 30 * 86400 * 1_000_000
    start_us = int(now.timestamp() * 1_000_000) - span_us
    started = time.perf_counter()
    sql = _select()
    for first in range(0, total, _CHUNK):
        chunk = min(_CHUNK, total - first)
        params: dict[str, object] = {
            "org": org,
            "start_us": start_us,
            "span_us": span_us,
            "total": total,
            "sessions": sessions,
            "first": first,
            "count": chunk,
        }
        await clickhouse.command(sql, params)
        done = first + chunk
        rate = done / (time.perf_counter() - started)
        print(f"  {done:>11,} rows ({rate:,.0f} rows/s)", flush=True)
    # The writer keeps session totals as it inserts; generated rows get them in one pass.
    await session_totals.rebuild(clickhouse)
    await session_properties.rebuild(clickhouse)
    await request_properties.rebuild(clickhouse)
    await hourly.rebuild(clickhouse)
    # Merge the parts the chunks left, as the background merges would in a while: the
    # benchmark then measures a settled table, not one mid-merge.
    await clickhouse.command("OPTIMIZE TABLE request_response FINAL")
    await clickhouse.command("OPTIMIZE TABLE session_summary FINAL")
    await clickhouse.command("OPTIMIZE TABLE session_property FINAL")
    await clickhouse.command("OPTIMIZE TABLE request_property FINAL")
    for rollup in (
        "request_hour",
        "user_hour",
        "property_hour",
        "property_user_hour",
        "latency_hour",
    ):
        await clickhouse.command(f"OPTIMIZE TABLE {rollup} FINAL")
    took = time.perf_counter() - started
    print(f"generated {total:,} rows in ClickHouse in {took:.0f} s", flush=True)


async def prepared(url: str, org: str, rows: int, sessions: int, now: dt.datetime) -> ClickHouse:
    """A ClickHouse at ``url`` holding exactly ``rows`` generated calls of ``org``.

    A database already holding them (a previous run on the same ``chdb:///dir``) is reused:
    generating 10,000,000 rows takes minutes, timing the queries seconds.
    """
    clickhouse = await ClickHouse.connect(url)
    await migrate(clickhouse)
    if await count(clickhouse, org) != rows:
        for table in TABLES:
            await clickhouse.command(f"TRUNCATE TABLE {table.name}")
        await fill(clickhouse, org, rows, sessions, now)
    else:
        # A dataset from before a table (its migration just filled it): settled too, as
        # fill leaves the others. Merged partitions are skipped, so a settled table is cheap.
        rollups = (
            "request_hour",
            "user_hour",
            "property_hour",
            "property_user_hour",
            "latency_hour",
        )
        for name in ("request_property", "session_property", *rollups):
            await clickhouse.command(
                f"OPTIMIZE TABLE {name} FINAL SETTINGS optimize_skip_merged_partitions = 1"
            )
    return clickhouse
