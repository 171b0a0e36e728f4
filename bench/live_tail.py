"""What the UI's live tail costs the server: one poll of ``/v1/helioscope/requests/news`` against
the baseline of reloading the page (``/v1/helioscope/requests/query``, 50 rows and the count),
over a log of N requests, in process (the app's own handlers, no sockets).

Prints latency percentiles and CPU per call for each, their ratio, and how many open tabs one
core serves at the UI's poll interval (2 s).

    python bench/live_tail.py [--rows 200000] [--calls 400] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helioscope import Settings, create_app
from helioscope.store import LogRow, keys

POLL_SECONDS = 2.0  # the UI's interval (src/helioscope/ui/static/js/live.js)


def rows(org: str, n: int, start: dt.datetime) -> list[LogRow]:
    return [
        LogRow(
            request_id=f"r-{i}",
            organization_id=org,
            request_created_at=start + dt.timedelta(seconds=i),
            status=200 if i % 50 else 500,
            provider="OPENAI",
            model="gpt-4o-mini",
            latency=100 + i % 900,
            prompt_tokens=100,
            completion_tokens=20,
            total_tokens=120,
            cost=1000,
            user_id=f"u-{i % 300}",
            properties={"env": ("prod", "dev", "staging")[i % 3]},
            request_body='{"messages":[{"role":"user","content":"hello"}]}',
            response_body='{"choices":[{"message":{"content":"hi"}}]}',
        )
        for i in range(n)
    ]


async def measure(http: httpx.AsyncClient, path: str, body: Any, calls: int) -> dict[str, float]:
    walls: list[float] = []
    cpu0 = time.process_time()
    for _ in range(calls):
        t0 = time.perf_counter()
        response = await http.post(path, json=body)
        walls.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.text
    cpu = (time.process_time() - cpu0) / calls
    q = statistics.quantiles(walls, n=100)
    return {"p50": q[49] * 1e3, "p95": q[94] * 1e3, "p99": q[98] * 1e3, "cpu_ms": cpu * 1e3}


def line(name: str, m: dict[str, float]) -> str:
    return (
        f"{name:<34} p50 {m['p50']:7.2f} ms  p95 {m['p95']:7.2f} ms  p99 {m['p99']:7.2f} ms"
        f"  cpu/call {m['cpu_ms']:6.2f} ms"
    )


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="hs-live-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    app = create_app(Settings(database_url=url, bootstrap_default_org=False, journal_dir=tmp))
    async with app.router.lifespan_context(app):
        store = app.state.services.store
        org = await store.write(keys.get_or_create_org, f"bench-{time.time_ns()}")
        key = (await store.org(org.id).write(keys.create_api_key)).key
        start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=args.rows + 60)
        all_rows = rows(org.id, args.rows, start)
        for i in range(0, len(all_rows), 5000):
            await store.log.write_batch(all_rows[i : i + 5000])
        latest = (start + dt.timedelta(seconds=args.rows - 1)).isoformat()
        transport = httpx.ASGITransport(app=app)
        headers = {"authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://b", headers=headers
        ) as http:
            prod = {"request_response_rmt": {"properties": {"env": {"equals": "prod"}}}}
            page = {"filter": "all", "limit": 50, "count": True}
            await measure(http, "/v1/helioscope/requests/query", page, 5)  # warm up
            baseline = await measure(http, "/v1/helioscope/requests/query", page, args.calls)
            idle = await measure(
                http, "/v1/helioscope/requests/news", {"since": latest}, args.calls
            )
            filtered = await measure(
                http, "/v1/helioscope/requests/news", {"since": latest, "filter": prod}, args.calls
            )
            recent = (start + dt.timedelta(seconds=args.rows - 100)).isoformat()
            busy = await measure(
                http, "/v1/helioscope/requests/news", {"since": recent}, args.calls
            )
    print(f"log: {args.rows:,} requests in one organization ({url.split(':')[0]})")
    print(line("baseline: reload page + count", baseline))
    print(line("poll, nothing new", idle))
    print(line("poll, nothing new, property filter", filtered))
    print(line("poll, 100 new", busy))
    for name, m in (("idle poll", idle), ("busy poll", busy)):
        ratio = m["cpu_ms"] / baseline["cpu_ms"]
        tabs = POLL_SECONDS / (m["cpu_ms"] / 1e3)
        print(f"{name}: {ratio:.3f}x the CPU of a reload; one core serves ~{tabs:,.0f} live tabs")
    reload_tabs = POLL_SECONDS / (baseline["cpu_ms"] / 1e3)
    print(f"(reloading every {POLL_SECONDS:g} s instead: ~{reload_tabs:,.0f} tabs per core)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--database-url", default=None)
    asyncio.run(main(parser.parse_args()))
