"""Exports: does memory stay flat as the log grows, and how fast are the formats?

Two logs (``--small`` and ``--large`` rows, each with ``--body-kb`` of bodies) are written to one
SQLite store in a temporary directory through the log writer's write path. Each is exported
with ``helioscope.export`` to nowhere, and the peak of Python's allocations during the export is
measured (tracemalloc). The baseline, in the same run, is the obvious alternative: collecting
every record before writing. Then each format's rows per second over the large log (without
tracemalloc, which slows Python down).

    python bench/export.py [--small 5000] [--large 50000] [--body-kb 1]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helioscope.export import ExportQuery, export_chunks, open_encoder, record_pages
from helioscope.store import LogRow, Store, keys

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


async def fill(store: Store, org_id: str, rows: int, body_kb: int) -> None:
    content = ("lorem ipsum dolor sit amet " * (body_kb * 1024 // 27 + 1))[: body_kb * 1024]
    for start in range(0, rows, 2000):
        batch = [
            LogRow(
                request_id=f"r-{i:08d}",
                organization_id=org_id,
                request_created_at=T0 + dt.timedelta(milliseconds=i),
                status=200,
                provider="OPENAI",
                model="gpt-4o-mini",
                user_id=f"user-{i % 97}",
                prompt_tokens=200,
                completion_tokens=20,
                cost=1_500,
                properties={"environment": "prod", "feature": f"f{i % 7}"},
                request_body=f'{{"messages": [{{"role": "user", "content": "{content}"}}]}}',
                response_body='{"choices": [{"message": {"content": "ok"}}]}',
            )
            for i in range(start, min(rows, start + 2000))
        ]
        await store.log.write_batch(batch)


async def streamed(store: Store, org_id: str, fmt: str) -> int:
    size = 0
    async for chunk in export_chunks(store, org_id, ExportQuery(), open_encoder(fmt)):
        size += len(chunk.data)  # written to nowhere
    return size


async def collected(store: Store, org_id: str, fmt: str) -> int:
    records = [r async for page in record_pages(store, org_id, ExportQuery()) for r in page]
    encoder = open_encoder(fmt)
    return len(encoder.start() + encoder.page(records) + encoder.end())


async def peak(run: Callable[[], Awaitable[int]]) -> float:
    tracemalloc.start()
    await run()
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top / 1e6


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="helioscope-bench-export-") as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'export.db'}")
        await store.migrate()
        small = await store.write(keys.get_or_create_org, "small")
        large = await store.write(keys.get_or_create_org, "large")
        started = time.perf_counter()
        await fill(store, small.id, args.small, args.body_kb)
        await fill(store, large.id, args.large, args.body_kb)
        print(f"filled {args.small} + {args.large} rows in {time.perf_counter() - started:.1f} s")

        print(f"\npeak Python memory during a JSONL export ({args.body_kb} KB bodies):")
        print(f"{'':>12} {args.small:>10} rows {args.large:>10} rows {'ratio':>8}")
        for name, way in (("streamed", streamed), ("collected", collected)):
            a = await peak(functools.partial(way, store, small.id, "jsonl"))
            b = await peak(functools.partial(way, store, large.id, "jsonl"))
            print(f"{name:>12} {a:>10.1f} MB   {b:>10.1f} MB   {b / a:>7.2f}x")

        print(f"\nexport speed over {args.large} rows (streamed):")
        for fmt in ("jsonl", "csv", "parquet"):
            started = time.perf_counter()
            size = await streamed(store, large.id, fmt)
            seconds = time.perf_counter() - started
            rate = args.large / seconds
            print(f"{fmt:>12} {rate:>10,.0f} rows/s   {size / 1e6:>8.1f} MB in {seconds:.1f} s")
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=5000)
    parser.add_argument("--large", type=int, default=50000)
    parser.add_argument("--body-kb", type=int, default=1)
    asyncio.run(main(parser.parse_args()))
