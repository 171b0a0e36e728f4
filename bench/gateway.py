"""Gateway overhead: the same load sent direct to the fake provider and through Helioscope.

Both targets run as separate processes; this process is the client. Rounds alternate between
direct and gateway so that drift on the machine hits both alike. Logging is on (SQLite).

    python bench/gateway.py [--concurrency 8] [--rounds 10] [--per-round 400] [--stream]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._procs import count_rows, fake_provider, helioscope

BODY = (
    b'{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},'
    b'{"role":"user","content":"Give me one word for happy, please."}]}'
)
STREAM_BODY = BODY[:-1] + b',"stream":true,"stream_options":{"include_usage":true}}'


async def run_round(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    n: int,
    conc: int,
    body: bytes,
) -> tuple[list[float], float]:
    latencies: list[float] = []
    queue = iter(range(n))

    async def worker() -> None:
        for _ in queue:
            start = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                assert response.status == 200, await response.text()
            latencies.append((time.perf_counter() - start) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conc)))
    return latencies, n / (time.perf_counter() - started)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def bench(direct: str, gateway: str, key: str, args: argparse.Namespace) -> None:
    body = STREAM_BODY if args.stream else BODY
    base = {"content-type": "application/json", "authorization": "Bearer sk-bench"}
    targets = {
        "direct": (f"{direct}/v1/chat/completions", base),
        "gateway": (
            f"{gateway}/oai/v1/chat/completions",
            {**base, "helicone-auth": f"Bearer {key}"},
        ),
    }
    results: dict[str, list[float]] = {"direct": [], "gateway": []}
    rates: dict[str, list[float]] = {"direct": [], "gateway": []}
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        for url, headers in targets.values():  # warm up connections and caches
            await run_round(session, url, headers, 100, args.concurrency, body)
        for _ in range(args.rounds):
            for name, (url, headers) in targets.items():
                lat, rate = await run_round(
                    session, url, headers, args.per_round, args.concurrency, body
                )
                results[name] += lat
                rates[name].append(rate)
    d, g = results["direct"], results["gateway"]
    print(f"\n{'':10}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}{'req/s':>10}")
    for name, values in results.items():
        print(
            f"{name:10}{pct(values, 50):10.3f}{pct(values, 90):10.3f}{pct(values, 99):10.3f}"
            f"{statistics.median(rates[name]):10.0f}"
        )
    print(
        f"\nadded latency: p50 {pct(g, 50) - pct(d, 50):.3f} ms,"
        f" p99 {pct(g, 99) - pct(d, 99):.3f} ms"
        f"; throughput ratio gateway/direct "
        f"{statistics.median(rates['gateway']) / statistics.median(rates['direct']):.2f}"
        f" ({'stream' if args.stream else 'json'}, {args.concurrency} connections,"
        f" {len(g)} calls each way)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--per-round", type=int, default=400)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fake_provider() as direct:
        with helioscope(direct, Path(tmp), args.database_url) as server:
            asyncio.run(bench(direct, server.url, server.key, args))
        logged = count_rows(server)
        expected = args.rounds * args.per_round + 100
        print(
            f"logged rows: {logged} (gateway calls: {expected}; lost: {max(0, expected - logged)})"
        )


if __name__ == "__main__":
    main()
