"""What the store's runner costs: one statement run through ``store.log.org(org).read(fn)``
against the same statement run by hand on a connection (what each store method did before).

Small queries show the overhead best: one request by id, and a page of 100 requests. Both ways
run the same prebuilt statement and build the same dicts, so the difference is the runner; they
alternate within each round, so both see the same machine load. Prints p50/p95 and the ratio.

    python bench/runner.py [--rows 20000] [--rounds 2000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.query import ORG, fill
from helioscope.store import OrgDb, RequestQuery, Store
from helioscope.store.log import requests
from helioscope.store.tables.log import request_response as rr

Call = Callable[[], Awaitable[Any]]


def _by_hand(store: Store, stmt: Any) -> Call:
    async def run() -> list[dict[str, Any]]:
        async with store.engine.connect() as conn:
            return [dict(row) for row in (await conn.execute(stmt)).mappings()]

    return run


async def _rows(db: OrgDb, stmt: Any) -> list[dict[str, Any]]:
    return await db.rows(stmt)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


async def compare(name: str, rounds: int, baseline: Call, runner: Call) -> None:
    """Alternate the two calls ``rounds`` times; print p50/p95 (µs) and the runner's ratio."""
    times: dict[str, list[float]] = {"by hand": [], "runner": []}
    for _ in range(20):  # warm both
        await baseline()
        await runner()
    for i in range(rounds):
        order = [("by hand", baseline), ("runner", runner)]
        for label, call in order if i % 2 else reversed(order):
            start = time.perf_counter()
            await call()
            times[label].append((time.perf_counter() - start) * 1e6)
    (b50, b95), (r50, r95) = _percentiles(times["by hand"]), _percentiles(times["runner"])
    print(
        f"{name:34} by hand p50 {b50:7.0f} µs p95 {b95:7.0f} µs | runner p50 {r50:7.0f} µs "
        f"p95 {r95:7.0f} µs | ratio p50 {r50 / b50:.3f}"
    )


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        store = Store.open(url)
        await store.migrate()
        await fill(store, args.rows, max(1, args.rows // 50))
        log = store.log.org(ORG)
        page = await log.read(requests.query_requests, RequestQuery(limit=100))
        request_id = page[50]["request_id"]
        # The baseline writes the organization rule by hand, as the old store methods did.
        one = requests.rows_with_bodies().where(
            rr.c.organization_id == ORG, rr.c.request_id == request_id
        )
        await compare(
            "one request by id", args.rounds, _by_hand(store, one), lambda: log.read(_rows, one)
        )
        newest = (
            requests.rows_with_bodies(False)
            .where(rr.c.organization_id == ORG)
            .order_by(rr.c.request_created_at.desc(), rr.c.request_id.desc())
            .limit(100)
        )
        await compare(
            "page of 100 requests (no bodies)",
            args.rounds // 4,
            _by_hand(store, newest),
            lambda: log.read(_rows, newest),
        )
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    asyncio.run(main(parser.parse_args()))
