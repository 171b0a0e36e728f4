"""CPU per OTLP log, stage by stage, of two source trees run in alternating rounds.

An OTLP/JSON export (``bench/ingest.py``'s: ``--spans`` GenAI spans of ``--body-kb`` each) goes
through each stage the server and its log writer run, and each stage's CPU time per log is
printed for both trees side by side:

- ``decode``: the body into an export (``otel.decode_json``)
- ``rows``: the export into log rows (``otel.trace_rows``)
- ``journal``: the rows into one journal payload (``_records.encode_rows``)
- ``read``: the payload back into rows, as the writer reads it (``_records.decode_all``)
- ``columns``: the rows into ClickHouse's columns (``_insert.log_columns``)
- ``insert``: a batch of ``--insert-exports`` exports' rows stored in chdb
  (``_insert.insert_log_rows``: the block, the property, rollup and session tables); the
  process's CPU, chdb's threads included

Each round runs a fresh process per tree (``PYTHONPATH`` at its ``src``), alternating which
goes first, so both meet the same neighbours on a shared machine; a stage's figure is the
median over rounds of each round's fastest repetition.

    python bench/otlp_stages.py --a-src /tmp/main/src [--rounds 5] [--spans 500]
        [--insert-exports 10 | --no-insert]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STAGES = ("decode", "rows", "journal", "read", "columns", "insert")


def _cpu(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """The fastest of ``repeats`` runs of ``fn`` in process CPU seconds, and its last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        gc.collect()
        start = time.process_time()
        result = fn()
        best = min(best, time.process_time() - start)
    return best, result


def _child(spans: int, kb: int, repeats: int, insert: int) -> dict[str, float]:
    """This tree's CPU per log for each stage (microseconds)."""
    from bench.ingest import _TRACE, otlp_body
    from helioscope.ingest import _records as records
    from helioscope.ingest.otel import decode_json, trace_rows
    from helioscope.store.clickhouse import _insert

    body = otlp_body(kb, spans)
    per_log = 1e6 / spans
    out: dict[str, float] = {}
    took, payload = _cpu(lambda: decode_json(body), repeats)
    out["decode"] = took * per_log
    took, rows = _cpu(lambda: asyncio.run(trace_rows(payload, "org", 1)), repeats)
    out["rows"] = took * per_log
    took, frame = _cpu(lambda: records.encode_rows(rows), repeats)
    out["journal"] = took * per_log
    took, rows = _cpu(lambda: records.decode_all(frame), repeats)
    out["read"] = took * per_log
    now = dt.datetime.now(dt.UTC)
    took, _ = _cpu(lambda: _insert.log_columns(rows, now), repeats)
    out["columns"] = took * per_log
    if insert:
        exports = iter(
            decode_json(body.replace(_TRACE, f"{n:032x}".encode())) for n in range(1, 10**6)
        )
        took = asyncio.run(_insert_cpu(exports, insert, max(3, repeats // 3)))
        out["insert"] = took * per_log / insert
    return out


async def _insert_cpu(exports: Any, count: int, repeats: int) -> float:
    """The fastest insert of ``count`` new exports' rows into a fresh chdb log (CPU seconds)."""
    from helioscope.ingest.otel import trace_rows
    from helioscope.store.clickhouse import ClickHouse, _insert, migrate

    with tempfile.TemporaryDirectory() as directory:
        clickhouse = await ClickHouse.connect(f"chdb://{directory}")
        try:
            await migrate(clickhouse)
            await _insert.insert_log_rows(clickhouse, await trace_rows(next(exports), "org", 1))
            best = float("inf")
            for _ in range(repeats):
                rows = [r for _ in range(count) for r in await trace_rows(next(exports), "org", 1)]
                gc.collect()
                start = time.process_time()
                await _insert.insert_log_rows(clickhouse, rows)
                best = min(best, time.process_time() - start)
        finally:
            await clickhouse.close()
    return best


def _run(src: Path, args: argparse.Namespace) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", "--spans", str(args.spans)]
    command += ["--body-kb", str(args.body_kb), "--repeats", str(args.repeats)]
    command += ["--insert-exports", str(0 if args.no_insert else args.insert_exports)]
    env = {**os.environ, "PYTHONPATH": str(src.resolve())}
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--a-src", type=Path, required=False, help="A's source tree (baseline)")
    parser.add_argument("--b-src", type=Path, default=ROOT / "src", help="B's (default: this)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--spans", type=int, default=500, help="spans per export")
    parser.add_argument("--body-kb", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=10, help="runs of a stage per round")
    parser.add_argument("--insert-exports", type=int, default=10, help="exports per insert")
    parser.add_argument("--no-insert", action="store_true", help="skip the chdb stage")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.spans, args.body_kb, args.repeats, args.insert_exports)))
        return
    sides = {"A": args.a_src or args.b_src, "B": args.b_src}
    results: dict[str, list[dict[str, float]]] = {"A": [], "B": []}
    for round_ in range(args.rounds):
        for name in ("A", "B") if round_ % 2 == 0 else ("B", "A"):
            results[name].append(_run(sides[name], args))
    stages = [s for s in STAGES if s in results["A"][0]]
    print(
        f"CPU per log, us (median of {args.rounds} rounds; {args.spans} spans of {args.body_kb} KB)"
    )
    print(f"A: {sides['A']}\nB: {sides['B']}")
    print(f"{'stage':10} {'A':>8} {'B':>8} {'B/A':>6}")
    totals = {"A": 0.0, "B": 0.0}
    for stage in stages:
        a, b = (statistics.median(r[stage] for r in results[n]) for n in ("A", "B"))
        totals["A"] += a
        totals["B"] += b
        print(f"{stage:10} {a:8.2f} {b:8.2f} {b / a:6.2f}")
    a, b = totals["A"], totals["B"]
    print(f"{'total':10} {a:8.2f} {b:8.2f} {b / a:6.2f}")


if __name__ == "__main__":
    main()
