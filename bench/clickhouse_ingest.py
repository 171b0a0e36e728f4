"""Log rows into ClickHouse: batches per second as the log writer sends them, none lost.

Builds the writer's batches (``LogRow`` lists of ``--batch`` rows, 1 KB bodies, a session per
500 calls) and stores them for ``--seconds`` through ``ClickHouseLog.write_batch`` (what the
log writer calls), replaying one batch
in ten as the journal does after a crash; then counts the rows ClickHouse holds (FINAL): every
distinct row once. The same batches go to SQLite (``Store.insert_log_rows``) for a baseline.
It also prints the resident memory of this process before and after chdb starts.

    python bench/clickhouse_ingest.py [--clickhouse chdb:///dir] [--seconds 20] [--batch 2000]
        [--shaped]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helioscope.store import LogRow, Store

ORG = "00000000-0000-4000-8000-00000ingest"


def rss_mb() -> float:
    """This process's resident memory (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _shape(i: int, shaped: bool) -> dict[str, Any]:
    """Per-row columns: constant ones, or (``--shaped``) as ``bench/query.py``'s rows vary."""
    session = {"Helicone-Session-Id": f"s-{i % 500}"}
    if not shaped:
        return {"latency": 500, "properties": {"Helicone-Property-Bench": "ingest", **session}}
    return {
        "latency": 200 + (i * 7919) % 8801,
        "user_id": f"user-{(i // 50) % 3000}",
        "properties": {
            "env": ("prod", "staging", "dev")[i % 3],
            "feature": f"feature-{i % 40}",
            **session,
        },
    }


def batch(start: int, size: int, body_kb: int, shaped: bool = False) -> list[LogRow]:
    content = ("lorem ipsum dolor sit amet " * (body_kb * 40))[: body_kb * 1024 - 200]
    now = dt.datetime.now(dt.UTC)
    return [
        LogRow(
            request_id=str(uuid.UUID(int=i)),
            organization_id=ORG,
            request_created_at=now,
            response_created_at=now,
            status=200,
            provider="OPENAI",
            model="gpt-4o-mini",
            prompt_tokens=body_kb * 200,
            completion_tokens=1,
            total_tokens=body_kb * 200 + 1,
            cost=30_000,
            request_body=f'{{"model": "gpt-4o-mini", "messages": [{{"content": "{content}"}}]}}',
            response_body='{"choices": [{"message": {"content": "ok"}}]}',
            **_shape(i, shaped),
        )
        for i in range(start, start + size)
    ]


async def run(
    name: str, insert: Callable[[list[LogRow]], Awaitable[None]], args: argparse.Namespace
) -> tuple[int, float]:
    """Insert batches for ``args.seconds`` of store time (every tenth batch twice).

    Only the time inside ``insert`` counts: building the rows is the load generator's work
    (the writer receives them built), and on this machine it costs a fifth as much again.
    """
    sent = replays = 0
    busy = cpu = 0.0
    while busy < args.seconds:
        rows = batch(sent, args.batch, args.body_kb, args.shaped)
        started, started_cpu = time.perf_counter(), time.process_time()
        await insert(rows)
        if (sent // args.batch) % 10 == 9:
            await insert(rows)  # the journal replays a batch it cannot prove was stored
            replays += 1
        busy += time.perf_counter() - started
        cpu += time.process_time() - started_cpu
        sent += len(rows)
    rate = sent / busy
    # CPU time of the whole process while inserting (the engine's threads included: chdb
    # runs inside it): on a shared machine wall time mostly measures the other processes.
    print(
        f"{name:11} {sent:>9,} distinct rows (+{replays} replayed batches) at {rate:>9,.0f}/s "
        f"({sent / cpu:,.0f} rows per CPU-second)"
    )
    return sent, rate


async def main(args: argparse.Namespace) -> None:
    print(f"RSS before ClickHouse is imported: {rss_mb():6.0f} MB")
    from helioscope.store.clickhouse import TABLES, ClickHouse, ClickHouseLog, migrate

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'ingest.db'}")
        await store.migrate()
        # A first small batch, untimed (and not counted): imports and caches warm up once.
        await store.log.write_batch(batch(10**9, 100, args.body_kb))
        _, sqlite_rate = await run("SQLite", store.log.write_batch, args)
        await store.close()

        url = args.clickhouse or f"chdb://{Path(tmp) / 'ch'}?database=ingest"
        print(f"RSS with clickhouse-connect imported: {rss_mb():6.0f} MB")
        clickhouse = await ClickHouse.connect(url)
        await migrate(clickhouse)
        print(f"RSS with the ClickHouse engine up:  {rss_mb():6.0f} MB")
        log = ClickHouseLog(clickhouse)
        await log.write_batch(batch(10**9, 100, args.body_kb))
        for table in TABLES:
            await clickhouse.command(f"TRUNCATE TABLE {table.name}")

        sent, ch_rate = await run("ClickHouse", log.write_batch, args)
        stored = await clickhouse.query("SELECT count() FROM request_response FINAL")
        kept = int(stored.rows[0][0])
        print(f"RSS after ingesting:                {rss_mb():6.0f} MB")
        print(
            f"ClickHouse / SQLite: {ch_rate / sqlite_rate:.1f}x; stored {kept:,} of {sent:,} "
            f"distinct rows ({sent - kept} lost, {kept - sent if kept > sent else 0} duplicated)"
        )
        await clickhouse.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clickhouse", default=None, help="default: chdb in a temp dir")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--body-kb", type=int, default=1)
    parser.add_argument(
        "--shaped",
        action="store_true",
        help="rows vary as bench/query.py's (3,000 users, latencies, env and feature "
        "properties), so every rollup beside the log has rows to write",
    )
    asyncio.run(main(parser.parse_args()))
