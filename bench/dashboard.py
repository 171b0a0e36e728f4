"""Dashboard, user and property query latency over a large log, on SQLite and on ClickHouse.

Fills a fresh store (SQLite by default, or --database-url postgresql://…) with the same rows as
``bench/query.py`` (30 days, 3,000 users, 40 features), then times the dashboard's queries
in-process and prints p50/p95 for each.

With ``--clickhouse URL`` (``chdb:///dir`` or ``http://…``) the same query functions also run
on ClickHouse over ``--rows`` generated rows, and SQLite, over ``--sqlite-rows``, is the
baseline printed beside them:

    python bench/dashboard.py [--rows 200000] [--database-url URL] [--runs 10]
    python bench/dashboard.py --clickhouse chdb:///tmp/helioscope-ch --rows 10000000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._clickhouse import prepared
from bench._compare import Query, Timing, print_one, print_table, time_queries
from bench.query import NOW, ORG, fill
from helioscope.store import Buckets, Store, TimeWindow, UserQuery
from helioscope.store.clickhouse import ClickHouseLog
from helioscope.store.clickhouse import _hourly_reads as ch_hourly
from helioscope.store.clickhouse import _reads as ch_reads
from helioscope.store.clickhouse import _user_reads as ch_users
from helioscope.store.log import metrics, properties, users

# What the ClickHouse runner runs for these (``_reads.READS``), named so the table says so.
_PROPERTY_TABLE = "request_property, not the Map"
_ROLLUP = "request_hour (per-hour rollup)"
_USERS = "user_hour (per-hour rollup of users)"
_PROPERTY_ROLLUP = "property_hour (per-hour rollup), edges from request_property"


def queries() -> list[Query]:
    month = TimeWindow(NOW - dt.timedelta(days=30), NOW)
    week = TimeWindow(NOW - dt.timedelta(days=7), NOW)
    day, hour = Buckets("day", 300), Buckets("hour", 300)
    prod = {"request_response_rmt": {"properties": {"env": {"equals": "prod"}}}}
    by_cost = UserQuery(limit=100, sort={"cost": "desc"})
    return [
        Query(
            "totals (30 days)",
            lambda db: metrics.totals(db, "all", month),
            lambda db: ch_hourly.totals(db, "all", month),
            f"{_ROLLUP} + {_USERS}",
        ),
        Query(
            "totals (30 days, env=prod)",
            lambda db: metrics.totals(db, prod, month),
            lambda db: ch_hourly.totals(db, prod, month),
            "property_hour + property_user_hour (one property's rollups)",
        ),
        Query(
            "requests per day (30 days)",
            lambda db: metrics.over_time(db, "all", month, day, ["count", "cost", "errors"]),
            lambda db: ch_hourly.over_time(db, "all", month, day, ["count", "cost", "errors"]),
            _ROLLUP,
        ),
        Query(
            "requests per hour (7 days)",
            lambda db: metrics.over_time(db, "all", week, hour, ["count"]),
            lambda db: ch_hourly.over_time(db, "all", week, hour, ["count"]),
            _ROLLUP,
        ),
        Query(
            "status per day (30 days)",
            lambda db: metrics.over_time(db, "all", month, day, ["count"], "status"),
            lambda db: ch_hourly.over_time(db, "all", month, day, ["count"], "status"),
            _ROLLUP,
        ),
        Query(
            "latency quantiles per day (30 days)",
            lambda db: metrics.quantiles(db, "all", month, day, "latency"),
            lambda db: ch_hourly.quantiles(db, "all", month, day, "latency"),
            "latency_hour (per-hour histogram)",
        ),
        Query(
            "models breakdown (30 days)",
            lambda db: metrics.breakdown(db, "all", month, "model", 0, 100),
            lambda db: ch_hourly.breakdown(db, "all", month, "model", 0, 100),
            _ROLLUP,
        ),
        Query(
            "user metrics page (100, by cost)",
            lambda db: users.user_metrics(db, by_cost),
            lambda db: ch_users.user_metrics(db, by_cost),
            f"{_USERS}, first/last from the log's edge hours",
        ),
        Query(
            "users overview (every user)",
            lambda db: users.per_user_values(db, "all"),
            lambda db: ch_hourly.per_user_values(db, "all"),
            _USERS,
        ),
        Query(
            "property keys",
            lambda db: properties.property_keys(db),
            lambda db: ch_reads.property_keys(db),
            "a table of keys a view keeps",
        ),
        Query(
            "property values search",
            lambda db: properties.search_values(db, "feature", "1"),
            lambda db: ch_reads.search_values(db, "feature", "1"),
            _PROPERTY_TABLE,
        ),
        Query(
            "property top values (feature, 30 days)",
            lambda db: properties.top_values(db, "feature", month, "cost"),
            lambda db: ch_reads.top_values(db, "feature", month, "cost"),
            _PROPERTY_ROLLUP,
        ),
        Query(
            "property over time (feature, 30 days)",
            lambda db: properties.over_time(db, "feature", "all", month, day),
            lambda db: ch_reads.over_time(db, "feature", "all", month, day),
            _PROPERTY_ROLLUP,
        ),
    ]


async def on_sql(url: str, rows: int, runs: int) -> dict[str, Timing]:
    store = Store.open(url)
    await store.migrate()
    await fill(store, rows, max(1, rows // 50))
    timings = {}
    async for query, timing in time_queries(queries(), store.log.org(ORG), runs, False):
        print_one(query, timing)
        timings[query.name] = timing
    await store.close()
    return timings


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        sql_rows = args.rows if args.clickhouse is None else args.sqlite_rows
        print(f"SQL store ({url.split(':')[0]}), {sql_rows:,} rows", flush=True)
        baseline = await on_sql(url, sql_rows, args.runs)
    if args.clickhouse is None:
        return
    print(f"ClickHouse ({args.clickhouse}), {args.rows:,} rows", flush=True)
    ch = await prepared(args.clickhouse, ORG, args.rows, max(1, args.rows // 50), NOW)
    timings = {}
    async for query, timing in time_queries(queries(), ClickHouseLog(ch).org(ORG), args.runs, True):
        print_one(query, timing)
        timings[query.name] = timing
    await ch.close()
    print_table(baseline, timings, queries(), f"@{sql_rows:,} / @{args.rows:,} rows")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--clickhouse", default=None, help="chdb:///dir or http(s)://… URL")
    parser.add_argument("--sqlite-rows", type=int, default=1_000_000)
    asyncio.run(main(parser.parse_args()))
