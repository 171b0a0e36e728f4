"""Dashboard, user and property query latency over a large log.

Fills a fresh store (SQLite by default, or --database-url postgresql://…) with the same rows as
``bench/query.py`` (30 days, 3,000 users, 40 features), then times the dashboard's queries
in-process against the store and prints p50/p95 for each.

    python bench/dashboard.py [--rows 200000] [--database-url URL] [--runs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.query import NOW, ORG, fill, timed
from helioscope.store import Buckets, Store, TimeWindow, UserQuery
from helioscope.store.log import metrics, properties, users


async def as_list(result: Awaitable[Any]) -> list[Any]:
    """A result as a list, so that ``timed`` prints its length rather than its content."""
    value = await result
    if isinstance(value, tuple):
        value = value[0]
    return value if isinstance(value, list) else [value]


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        store = Store.open(url)
        await store.migrate()
        await fill(store, args.rows, max(1, args.rows // 50))
        log, r = store.log.org(ORG), args.runs
        month = TimeWindow(NOW - dt.timedelta(days=30), NOW)
        week = TimeWindow(NOW - dt.timedelta(days=7), NOW)
        day, hour = Buckets("day", 300), Buckets("hour", 300)
        prod = {"request_response_rmt": {"properties": {"env": {"equals": "prod"}}}}
        await timed("totals (30 days)", r, lambda: as_list(log.read(metrics.totals, "all", month)))
        await timed(
            "totals (30 days, env=prod)", r, lambda: as_list(log.read(metrics.totals, prod, month))
        )
        await timed(
            "requests per day (30 days)",
            r,
            lambda: log.read(metrics.over_time, "all", month, day, ["count", "cost", "errors"]),
        )
        await timed(
            "requests per hour (7 days)",
            r,
            lambda: log.read(metrics.over_time, "all", week, hour, ["count"]),
        )
        await timed(
            "status per day (30 days)",
            r,
            lambda: log.read(metrics.over_time, "all", month, day, ["count"], "status"),
        )
        await timed(
            "latency quantiles per day (30 days)",
            r,
            lambda: log.read(metrics.quantiles, "all", month, day, "latency"),
        )
        await timed(
            "models breakdown (30 days)",
            r,
            lambda: log.read(metrics.breakdown, "all", month, "model", 0, 100),
        )
        await timed(
            "user metrics page (100, by cost)",
            r,
            lambda: as_list(
                log.read(users.user_metrics, UserQuery(limit=100, sort={"cost": "desc"}))
            ),
        )
        await timed("property keys", r, lambda: log.read(properties.property_keys))
        await timed(
            "property values search", r, lambda: log.read(properties.search_values, "feature", "1")
        )
        await timed(
            "property over time (feature, 30 days)",
            r,
            lambda: log.read(properties.over_time, "feature", "all", month, day),
        )
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=10)
    asyncio.run(main(parser.parse_args()))
