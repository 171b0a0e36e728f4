"""Gateway overhead: the same load sent direct to the fake provider and through Helioscope.

Both targets run as separate processes; this process is the client. Rounds alternate between
direct and gateway so that drift on the machine hits both alike. Logging is on (SQLite).
Besides latency and throughput it prints the CPU time each process spends per call: on a
machine with few cores, the three share them, and the gateway's CPU per call is what decides
the latency it adds under load.

    python bench/gateway.py [--concurrency 8] [--rounds 10] [--per-round 2000] [--stream]
    python bench/gateway.py --client aiohttp   # the load from aiohttp's client instead
    python bench/gateway.py --controls [--redis redis://127.0.0.1:6379/0]

``--controls`` adds gateway-control targets to the same alternating rounds: a cache miss (a new
seed per call, so every call goes upstream and writes an entry), a cache hit, a call under a
rate-limit policy it stays within, and a rate-limited call (answered 429 by the gateway).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from itertools import count
from pathlib import Path

import aiohttp
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._load import LoadClient
from bench._procs import count_rows, cpu_seconds, fake_provider, helioscope

BODY = (
    b'{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},'
    b'{"role":"user","content":"Give me one word for happy, please."}]}'
)
STREAM_BODY = BODY[:-1] + b',"stream":true,"stream_options":{"include_usage":true}}'


Headers = dict[str, str] | Callable[[], dict[str, str]]


async def run_round(
    session: aiohttp.ClientSession,
    url: str,
    headers: Headers,
    n: int,
    conc: int,
    body: bytes,
    status: int | None = 200,
) -> tuple[list[float], float]:
    latencies: list[float] = []
    queue = iter(range(n))

    async def worker() -> None:
        for _ in queue:
            sent = headers() if callable(headers) else headers
            start = time.perf_counter()
            async with session.post(url, data=body, headers=sent) as response:
                await response.read()
                assert status in (None, response.status), await response.text()
            latencies.append((time.perf_counter() - start) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conc)))
    return latencies, n / (time.perf_counter() - started)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


class CpuMeter:
    """CPU time each process spends per call of a target: the client (this process), the fake
    provider and the gateway. The machine's cores are shared by all three, so on a small machine
    the gateway's CPU per call, not its wall time, decides the latency it adds under load."""

    def __init__(self, provider_pid: int, gateway_pid: int) -> None:
        # "loop": the gateway's event-loop thread alone (the rest is SQLite's threads).
        self.pids = {
            "client": os.getpid(),
            "provider": provider_pid,
            "gateway": gateway_pid,
            "loop": gateway_pid,
        }
        self.used: dict[str, dict[str, float]] = {}
        self.calls: dict[str, int] = {}

    def sample(self) -> dict[str, float]:
        used = {name: cpu_seconds(pid) for name, pid in self.pids.items() if name != "loop"}
        used["loop"] = cpu_seconds(self.pids["gateway"], thread=self.pids["gateway"])
        return used

    async def settle(self, limit: float = 5.0) -> None:
        """Wait until the gateway process is idle (under 10% of a core over 50 ms)."""
        pid = self.pids["gateway"]
        deadline = time.monotonic() + limit
        last = cpu_seconds(pid)
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            now = cpu_seconds(pid)
            if now - last < 0.005:
                return
            last = now

    def add(self, target: str, before: dict[str, float], calls: int) -> None:
        after = self.sample()
        used = self.used.setdefault(target, dict.fromkeys(self.pids, 0.0))
        for name in self.pids:
            used[name] += after[name] - before[name]
        self.calls[target] = self.calls.get(target, 0) + calls

    def report(self) -> None:
        print(f"\nCPU per call, us{'':5}" + "".join(f"{name:>10}" for name in self.pids))
        for target, used in self.used.items():
            per = [used[name] / self.calls[target] * 1e6 for name in self.pids]
            print(f"{target:21}" + "".join(f"{value:10.0f}" for value in per))


Round = Callable[[str, Headers, int, bytes, "int | None"], Awaitable[tuple[list[float], float]]]


@asynccontextmanager
async def load_client(args: argparse.Namespace) -> AsyncIterator[Round]:
    """The load generator: the lean one (default), or aiohttp's client for comparison."""
    if args.client == "lean":
        client = LoadClient(args.concurrency)
        try:
            yield client.run_round
        finally:
            client.close()
        return
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def run(
            url: str, headers: Headers, n: int, body: bytes, status: int | None
        ) -> tuple[list[float], float]:
            return await run_round(session, url, headers, n, args.concurrency, body, status)

        yield run


async def bench(
    direct: str, gateway: str, key: str, args: argparse.Namespace, meter: CpuMeter
) -> None:
    body = STREAM_BODY if args.stream else BODY
    base = {"content-type": "application/json", "authorization": "Bearer sk-bench"}
    gw = f"{gateway}/oai/v1/chat/completions"
    auth = {**base, "helicone-auth": f"Bearer {key}"}
    targets: dict[str, tuple[str, Headers, int]] = {
        "direct": (f"{direct}/v1/chat/completions", base, 200),
        "gateway": (gw, auth, 200),
    }
    if args.controls:
        targets.update(control_targets(gw, auth))
    results: dict[str, list[float]] = {name: [] for name in targets}
    rates: dict[str, list[float]] = {name: [] for name in targets}
    async with load_client(args) as run:
        for url, headers, _ in targets.values():  # warm up connections, caches and buckets
            await run(url, headers, 100, body, None)
        order = list(targets.items())
        for round_index in range(args.rounds):
            # Rotate the order each round, so that no target always follows another.
            shift = round_index % len(order)
            for name, (url, headers, status) in order[shift:] + order[:shift]:
                before = meter.sample()
                lat, rate = await run(url, headers, args.per_round, body, status)
                # The log writer finishes a round's last batches after its last call: let it,
                # and charge its CPU to this round, rather than slow the next round (the
                # direct one, half the time, which would flatter the difference).
                await meter.settle()
                meter.add(name, before, args.per_round)
                results[name] += lat
                rates[name].append(rate)
    meter.report()
    d, g = results["direct"], results["gateway"]
    print(f"\n{'':14}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}{'req/s':>10}{'+p50':>9}{'+p99':>9}")
    for name, values in results.items():
        print(
            f"{name:14}{pct(values, 50):10.3f}{pct(values, 90):10.3f}{pct(values, 99):10.3f}"
            f"{statistics.median(rates[name]):10.0f}"
            f"{pct(values, 50) - pct(d, 50):9.3f}{pct(values, 99) - pct(d, 99):9.3f}"
        )
    print(
        f"\nadded latency: p50 {pct(g, 50) - pct(d, 50):.3f} ms,"
        f" p99 {pct(g, 99) - pct(d, 99):.3f} ms"
        f"; throughput ratio gateway/direct "
        f"{statistics.median(rates['gateway']) / statistics.median(rates['direct']):.2f}"
        f" ({'stream' if args.stream else 'json'}, {args.concurrency} connections,"
        f" {args.client} client,"
        f" {len(g)} calls each way)"
    )


def control_targets(url: str, auth: dict[str, str]) -> dict[str, tuple[str, Headers, int]]:
    """Gateway-control targets; +p50/+p99 in the table are each one's added latency vs direct."""
    seeds = count()
    run = uuid.uuid4().hex  # a fresh namespace per run: hits are primed by the warm-up round
    cache = {**auth, "helicone-cache-enabled": "true"}
    return {
        "cache-miss": (url, lambda: {**cache, "helicone-cache-seed": f"{run}-{next(seeds)}"}, 200),
        "cache-hit": (url, {**cache, "helicone-cache-seed": f"{run}-hit"}, 200),
        "ratelimit-ok": (url, {**auth, "helicone-ratelimit-policy": "100000000;w=60"}, 200),
        # One allowed call per run is spent by the first call of the warm-up; the rest are 429.
        "ratelimited": (
            url,
            {**auth, "helicone-ratelimit-policy": "1;w=31536000;s=user", "helicone-user-id": run},
            429,
        ),
    }


def drop_keys(url: str, prefix: str) -> None:
    """Delete this run's keys from the shared Redis."""
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=10)
    # Rounds long enough (~0.5 s) that the log writer works alongside the calls, at its steady
    # pace, for most of each round.
    parser.add_argument("--per-round", type=int, default=2000)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument(
        "--client",
        choices=("lean", "aiohttp"),
        default="lean",
        help="load generator (aiohttp's costs ~4x the CPU per call, which the gateway then lacks)",
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--controls", action="store_true", help="add cache and rate-limit targets")
    parser.add_argument("--redis", default=None, help="Redis URL for the controls' backends")
    args = parser.parse_args()
    extra = {"redis_url": args.redis, "redis_key_prefix": f"bench-{uuid.uuid4().hex}:"}
    with tempfile.TemporaryDirectory() as tmp, fake_provider() as direct:
        with helioscope(
            direct.url, Path(tmp), args.database_url, **(extra if args.redis else {})
        ) as server:
            meter = CpuMeter(direct.pid, server.pid)
            uvloop.run(bench(direct.url, server.url, server.key, args, meter))
        logged = count_rows(server)
        if args.redis:
            drop_keys(args.redis, extra["redis_key_prefix"])
        gateway_targets = 5 if args.controls else 1
        expected = (args.rounds * args.per_round + 100) * gateway_targets
        print(
            f"logged rows: {logged} (gateway calls: {expected}; lost: {max(0, expected - logged)})"
        )


if __name__ == "__main__":
    main()
