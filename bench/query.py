"""Query API latency over a large log: 1,000,000 requests in 20,000 sessions.

Fills a fresh store (SQLite by default, or --database-url postgresql://…) through the same batch
insert the log writer uses, then times the API's queries in-process against the store and
prints p50/p95 for each.

    python bench/query.py [--rows 1000000] [--sessions 20000] [--database-url URL] [--runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helioscope.store import LogRow, RequestQuery, SessionQuery, Store
from helioscope.store.log import requests, sessions

ORG = "00000000-0000-4000-8000-0000000bench"
NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
MODELS = ["gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet-20241022", "o3-mini"]
ENVS = ["prod", "staging", "dev"]
REQUEST = (
    '{"model": "%s", "messages": [{"role": "system", "content": "You are a helpful travel '
    'assistant. Answer briefly and cite sources where possible."}, {"role": "user", "content": '
    '"Plan day %d of my trip to Lisbon: museums, food, and a walk by the river. %s"}], '
    '"temperature": 0.7}'
)
RESPONSE = (
    '{"id": "chatcmpl-%d", "object": "chat.completion", "model": "%s", "choices": [{"index": 0, '
    '"message": {"role": "assistant", "content": "Morning: Gulbenkian museum. Lunch: Time Out '
    'Market. Afternoon: walk from Cais do Sodre to Belem along the Tagus. %s"}, '
    '"finish_reason": "stop"}], "usage": {"prompt_tokens": %d, "completion_tokens": %d}}'
)


def make_rows(
    start: int, count: int, sessions: int, total: int, span_s: int, rng: random.Random
) -> list[LogRow]:
    rows = []
    for i in range(start, start + count):
        # Sessions are runs of consecutive requests (50 each for 1M in 20k), as real ones are:
        # a conversation or an agent run lasts minutes, not the whole month.
        session = i * sessions // total
        model = MODELS[i % len(MODELS)]
        prompt, completion = rng.randint(50, 2000), rng.randint(10, 800)
        created = NOW - dt.timedelta(seconds=span_s * (1 - i / total))
        rows.append(
            LogRow(
                request_id=f"{i:08d}-0000-4000-8000-000000000000",
                organization_id=ORG,
                request_created_at=created,
                status=200 if rng.random() > 0.03 else 500,
                provider="OPENAI",
                model=model,
                latency=rng.randint(200, 9000),
                user_id=f"user-{session % 3000}",
                prompt_tokens=prompt,
                completion_tokens=completion,
                total_tokens=prompt + completion,
                cost=(prompt * 150 + completion * 600),
                properties={
                    "env": ENVS[i % 3],
                    "feature": f"feature-{i % 40}",
                    "Helicone-Session-Id": f"session-{session:06d}",
                    "Helicone-Session-Name": f"Trip planner {session % 25}",
                    "Helicone-Session-Path": f"/step/{i % 7}",
                },
                request_body=REQUEST % (model, i % 30, "x" * rng.randint(0, 300)),
                response_body=RESPONSE % (i, model, "y" * rng.randint(0, 300), prompt, completion),
            )
        )
    return rows


async def fill(store: Store, total: int, sessions: int) -> None:
    rng = random.Random(7)
    batch = 5000
    started = time.perf_counter()
    for start in range(0, total, batch):
        await store.log.write_batch(
            make_rows(start, min(batch, total - start), sessions, total, 30 * 86400, rng)
        )
        if start and start % 100_000 == 0:
            rate = start / (time.perf_counter() - started)
            print(f"  {start:>9,} rows ({rate:,.0f} rows/s)", flush=True)
    print(f"filled {total:,} rows in {time.perf_counter() - started:.0f} s", flush=True)


async def timed(name: str, runs: int, fn: Callable[[], Awaitable[Any]]) -> None:
    await fn()  # warm the cache
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        result = await fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    size = len(result) if isinstance(result, list) else result
    p95 = samples[min(len(samples) - 1, int(0.95 * len(samples)))]
    print(f"{name:42} p50 {statistics.median(samples):8.1f} ms   p95 {p95:8.1f} ms   ({size} rows)")


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        store = Store.open(url)
        await store.migrate()
        async with store.engine.connect() as conn:
            from sqlalchemy import text

            existing = (
                await conn.execute(text("SELECT count(*) FROM request_response"))
            ).scalar_one()
        if existing < args.rows:
            await fill(store, args.rows, args.sessions)
        month = SessionQuery(start=NOW - dt.timedelta(days=31), end=NOW + dt.timedelta(days=1))
        week = SessionQuery(start=NOW - dt.timedelta(days=7), end=NOW + dt.timedelta(days=1))
        prod = {"request_response_rmt": {"properties": {"env": {"equals": "prod"}}}}
        costly = {"sessions_request_response_rmt": {"session_total_cost": {"gt": 0.05}}}
        r = args.runs
        await timed(
            "session query (30 days, all)",
            r,
            lambda: store.log.org(ORG).read(sessions.query_sessions, month),
        )
        await timed(
            "session query (7 days, all)",
            r,
            lambda: store.log.org(ORG).read(sessions.query_sessions, week),
        )
        await timed(
            "session query (30 days, env=prod, cost>$0.05)",
            r,
            lambda: store.log.org(ORG).read(
                sessions.query_sessions,
                SessionQuery(
                    filter={"left": prod, "operator": "and", "right": costly},
                    start=month.start,
                    end=month.end,
                ),
            ),
        )
        await timed(
            "session search 'session-0123'",
            r,
            lambda: store.log.org(ORG).read(
                sessions.query_sessions, SessionQuery(search="session-0123")
            ),
        )
        await timed(
            "request page (100, newest, with bodies)",
            r,
            lambda: store.log.org(ORG).read(requests.query_requests, RequestQuery(limit=100)),
        )
        await timed(
            "request page, property filter env=staging",
            r,
            lambda: store.log.org(ORG).read(
                requests.query_requests,
                RequestQuery(
                    filter={"request_response_rmt": {"properties": {"env": {"equals": "staging"}}}},
                    limit=100,
                ),
            ),
        )
        await timed(
            "request page, session id filter",
            r,
            lambda: store.log.org(ORG).read(
                requests.query_requests,
                RequestQuery(
                    filter={
                        "request_response_rmt": {
                            "properties": {"Helicone-Session-Id": {"equals": "session-000042"}}
                        }
                    },
                    limit=100,
                ),
            ),
        )
        await timed(
            "request count, model=gpt-4o",
            r,
            lambda: store.log.org(ORG).read(
                requests.count_requests,
                {"request_response_rmt": {"model": {"equals": "gpt-4o"}}},
                None,
            ),
        )
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=20)
    asyncio.run(main(parser.parse_args()))
