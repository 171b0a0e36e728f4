"""The log writer's CPU per row, from journal to SQLite, on a log that already holds many rows.

A proxied call's row costs the writer more as the log grows (its B-trees outgrow SQLite's page
cache), which a bench on a fresh database does not show. This fills a SQLite log with
``--prefill`` rows first (``write_batch``, as the writer stores them), then journals ``--rows``
proxied calls (the JSON answer ``bench/gateway.py`` gets) and times the writer's tail, in
process CPU (every thread, user and system) and in wall time.

    python bench/writer.py [--prefill 100000] [--rows 20000]

Its request ids come from ``new_request_id``, as the gateway's do.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import gc
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gateway import BODY
from helioscope._guard import InternalErrorGuard
from helioscope.ingest import CallCapture, HeliconeHeaders, LogWriter, new_request_id
from helioscope.ingest.capture import build_log_row
from helioscope.providers.registry import BY_NAME
from helioscope.store import Store

ANSWER = orjson.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1_765_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Joyful."},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 25,
            "completion_tokens": 3,
            "total_tokens": 28,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
    }
)


def _capture() -> CallCapture:
    """A finished call as the gateway hands it to the journal."""
    started = time.perf_counter()
    return CallCapture(
        request_id=new_request_id(),
        organization_id="org-bench",
        provider=BY_NAME["OPENAI"],
        target_url="http://127.0.0.1:8000/v1/chat/completions",
        path="/v1/chat/completions",
        helicone=HeliconeHeaders.parse([]),
        request_body=BODY,
        started_at=dt.datetime.now(dt.UTC),
        started=started,
        api_key_id=1,
        status=200,
        first_chunk=started + 0.0005,
        ended=started + 0.0005,
        chunks=[ANSWER],
    )


async def _bench(prefill: int, rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/bench.db")
        await store.migrate()
        model = build_log_row(_capture())
        started = time.process_time()
        for _ in range(0, prefill, 1000):
            batch = [dataclasses.replace(model, request_id=new_request_id()) for _ in range(1000)]
            await store.log.write_batch(batch)
        filled = time.process_time() - started
        journal = Path(tmp) / "journal"
        guard = InternalErrorGuard(reraise=True)
        async with LogWriter(store, journal_dir=journal, guard=guard, linger_seconds=0) as writer:
            for capture in [_capture() for _ in range(300)]:  # warm up (prices, statements)
                writer.enqueue(capture)
            await writer.flush()
            for capture in [_capture() for _ in range(rows)]:
                writer.enqueue(capture)
            gc.collect()
            cpu, wall = time.process_time(), time.perf_counter()
            await writer.flush()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        size = sum(f.stat().st_size for f in Path(tmp).glob("bench.db*")) / 1e6
        await store.close()
    per_row = filled / prefill * 1e6 if prefill else 0.0
    print(f"log of {prefill:,} rows ({size:.0f} MB; filled at {per_row:.1f} µs of CPU a row)")
    print(f"writer: {cpu / rows * 1e6:.1f} µs of CPU a row, {wall / rows * 1e6:.1f} µs wall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prefill", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    asyncio.run(_bench(args.prefill, args.rows))


if __name__ == "__main__":
    main()
