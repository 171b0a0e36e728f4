"""The public statistics routes' log reads over a large log, against the dashboard's totals.

Fills a fresh store (SQLite by default, or --database-url postgresql://…) with the rows of
``bench/query.py`` (30 days), then times, in the same run, the dashboard's one-pass totals over
30 days (the baseline) and each read of ``store.log.public_stats`` that the Status, Comparison,
DataIsBeautiful and Customer routes make, and prints p50/p95 and the ratio to the baseline:

    python bench/public_stats.py [--rows 200000] [--database-url URL] [--runs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._compare import Query, Timing, print_one, time_queries
from bench.query import NOW, ORG, fill
from helioscope.store import Store, TimeWindow
from helioscope.store.log import metrics, public_stats

BASELINE = "dashboard totals (30 days): baseline"


def queries() -> list[Query]:
    month, week = NOW - dt.timedelta(days=30), NOW - dt.timedelta(days=7)
    quarter = NOW - dt.timedelta(days=90)
    mini = ["gpt-4o-mini"]
    return [
        Query(BASELINE, lambda db: metrics.totals(db, "all", TimeWindow(month, NOW))),
        Query("customers (every user id)", public_stats.customer_ids),
        Query(
            "status: provider hours (48 hours)",
            lambda db: public_stats.provider_hours(db, NOW - dt.timedelta(hours=48), NOW, None),
        ),
        Query(
            "status: provider hours (30 days)",
            lambda db: public_stats.provider_hours(db, month, NOW, "OPENAI"),
        ),
        Query(
            "dataisbeautiful: model days (7 days)",
            lambda db: public_stats.model_days(db, week, NOW, None),
        ),
        Query(
            "dataisbeautiful: model days (90 days)",
            lambda db: public_stats.model_days(db, quarter, NOW, None),
        ),
        Query(
            "dataisbeautiful: ttft rows (30 days)",
            lambda db: public_stats.ttft_rows(db, month, NOW, None, []),
        ),
        Query(
            "comparison: call rows, one model (30 days)",
            lambda db: public_stats.call_rows(db, month, NOW, "OPENAI", mini),
        ),
    ]


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        print(f"{url.split(':')[0]}, {args.rows:,} rows over 30 days", flush=True)
        store = Store.open(url)
        await store.migrate()
        await fill(store, args.rows, max(1, args.rows // 50))
        timings: dict[str, Timing] = {}
        async for query, timing in time_queries(queries(), store.log.org(ORG), args.runs, False):
            print_one(query, timing)
            timings[query.name] = timing
        await store.close()
    base = timings[BASELINE].p50
    print(f"\n{'query':44} {'p50 / baseline p50':>20}")
    for name, timing in timings.items():
        print(f"{name:44} {timing.p50 / base:>19.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=10)
    asyncio.run(main(parser.parse_args()))
