"""Query API latency over a large log: 1,000,000 requests in 20,000 sessions.

Fills a fresh store (SQLite by default, or --database-url postgresql://…) through the same batch
insert the log writer uses, then times the API's queries in-process against the store and
prints p50/p95 for each.

With ``--clickhouse URL`` the same query functions also run on ClickHouse over ``--rows``
generated rows (sessions scale with them), beside SQLite over ``--sqlite-rows``:

    python bench/query.py [--rows 1000000] [--sessions 20000] [--database-url URL] [--runs 20]
    python bench/query.py --clickhouse chdb:///tmp/helioscope-ch --rows 10000000 --sessions 200000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._clickhouse import prepared
from bench._compare import Query, Timing, print_one, print_table, time_queries
from helioscope.store import LogRow, RequestQuery, SessionQuery, Store
from helioscope.store.clickhouse import ClickHouseLog
from helioscope.store.clickhouse import _session_reads as ch_sessions
from helioscope.store.log import requests
from helioscope.store.log import sessions as sessions_

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


def queries(sessions: int) -> list[Query]:
    month = SessionQuery(start=NOW - dt.timedelta(days=31), end=NOW + dt.timedelta(days=1))
    week = SessionQuery(start=NOW - dt.timedelta(days=7), end=NOW + dt.timedelta(days=1))
    prod = {"request_response_rmt": {"properties": {"env": {"equals": "prod"}}}}
    costly = {"sessions_request_response_rmt": {"session_total_cost": {"gt": 0.05}}}
    filtered = SessionQuery(
        filter={"left": prod, "operator": "and", "right": costly}, start=month.start, end=month.end
    )
    search = SessionQuery(search="session-0123")
    one_session = f"session-{min(42, sessions - 1):06d}"

    def session_query(name: str, query: SessionQuery) -> Query:
        # Both engines answer from their session summary, kept by their writer; the page comes
        # with each session's users, as the session API returns it. On ClickHouse, what its
        # runner runs (``_reads.READS``): a page filtered by one property reads
        # session_property, any other the store's function.
        return Query(
            name,
            lambda db: sessions_.query_sessions(db, query),
            lambda db: ch_sessions.query_sessions(db, query),
            "session_property (one property's session totals)"
            if query.filter != "all"
            else "session_summary (one read), users within the sessions' span",
        )

    def page(node: Any) -> Query:
        return Query(
            "request page, property filter env=staging" if node else "request page (100, newest)",
            lambda db: requests.query_requests(db, RequestQuery(filter=node or "all", limit=100)),
        )

    session_filter = {
        "request_response_rmt": {"properties": {"Helicone-Session-Id": {"equals": one_session}}}
    }
    return [
        session_query("session query (30 days, all)", month),
        session_query("session query (7 days, all)", week),
        session_query("session query (30 days, env=prod, cost>$0.05)", filtered),
        session_query("session search 'session-0123'", search),
        Query("session trace (one session)", lambda db: sessions_.session_trace(db, one_session)),
        page(None),
        page({"request_response_rmt": {"properties": {"env": {"equals": "staging"}}}}),
        Query(
            "request page, session id filter",
            lambda db: requests.query_requests(db, RequestQuery(filter=session_filter, limit=100)),
        ),
        Query(
            "request by id",
            lambda db: requests.get_request(db, "00012345-0000-4000-8000-000000000000"),
        ),
        Query(
            "request count, model=gpt-4o",
            lambda db: requests.count_requests(
                db, {"request_response_rmt": {"model": {"equals": "gpt-4o"}}}, None
            ),
        ),
    ]


async def on_sql(url: str, rows: int, sessions: int, runs: int) -> dict[str, Timing]:
    store = Store.open(url)
    await store.migrate()
    async with store.engine.connect() as conn:
        existing = (await conn.execute(text("SELECT count(*) FROM request_response"))).scalar_one()
    if existing < rows:
        await fill(store, rows, sessions)
    timings = {}
    async for query, timing in time_queries(queries(sessions), store.log.org(ORG), runs, False):
        print_one(query, timing)
        timings[query.name] = timing
    await store.close()
    return timings


async def main(args: argparse.Namespace) -> None:
    sql_rows = args.rows if args.clickhouse is None else args.sqlite_rows
    sql_sessions = max(1, args.sessions * sql_rows // args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        print(f"SQL store ({url.split(':')[0]}), {sql_rows:,} rows", flush=True)
        baseline = await on_sql(url, sql_rows, sql_sessions, args.runs)
    if args.clickhouse is None:
        return
    print(f"ClickHouse ({args.clickhouse}), {args.rows:,} rows", flush=True)
    ch = await prepared(args.clickhouse, ORG, args.rows, args.sessions, NOW)
    timings = {}
    async for query, timing in time_queries(
        queries(args.sessions), ClickHouseLog(ch).org(ORG), args.runs, True
    ):
        print_one(query, timing)
        timings[query.name] = timing
    await ch.close()
    print_table(baseline, timings, queries(args.sessions), f"@{sql_rows:,} / @{args.rows:,} rows")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--clickhouse", default=None, help="chdb:///dir or http(s)://… URL")
    parser.add_argument("--sqlite-rows", type=int, default=1_000_000)
    asyncio.run(main(parser.parse_args()))
