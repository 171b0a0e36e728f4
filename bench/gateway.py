"""Gateway overhead: the same load sent direct to the fake provider and through Helioscope.

Both targets run as separate processes; this process is the client. Rounds alternate between
direct and gateway so that drift on the machine hits both alike. Logging is on (SQLite).
Besides latency and throughput it prints the CPU time each process spends per call: on a
machine with few cores, the three share them, and the gateway's CPU per call is what decides
the latency it adds under load.

    python bench/gateway.py [--concurrency 8] [--rounds 10] [--per-round 2000] [--stream]
    python bench/gateway.py --rate 1000   # open-loop at a fixed rate instead of saturating
    python bench/gateway.py --writer-process   # serve --writer-process: the writer apart
    python bench/gateway.py --client aiohttp   # the load from aiohttp's client instead
    python bench/gateway.py --controls [--redis redis://127.0.0.1:6379/0]
    python bench/gateway.py --ai-gateway [--stream]
    python bench/gateway.py --gc   # also the server's garbage collections during the rounds

``--rate R`` sends R calls/s to each target, open-loop, instead of keeping ``--concurrency``
connections busy: every latency is measured from the call's scheduled send time, so a stall of
the server (a writer batch holding its event loop) counts against every call due during it
rather than being hidden by a load generator that waits for it (coordinated omission). The
saturated mode tells the gateway's cost at full load; the fixed-rate mode its tail latency at
a load it can carry. It also prints how late the load generator itself sent each call after its
scheduled time (it shares the cores too): lateness in both targets alike is the machine's, not
the gateway's.

``--controls`` adds gateway-control targets to the same alternating rounds: a cache miss (a new
seed per call, so every call goes upstream and writes an entry), a cache hit, a call under a
rate-limit policy it stays within, and a rate-limited call (answered 429 by the gateway).

``--ai-gateway`` adds a translated AI Gateway call (OpenAI's chat format in, Anthropic's
Messages API upstream, the answer mapped back) and, as its baseline, the same call made directly
to the Anthropic route of the fake provider with the body the gateway sends. The table tells
each target's added latency against its baseline, and with ``--stream`` the time to the first
chunk of the body too.
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
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import aiohttp
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _gc_probe as gc_probe
from bench._ai_gateway import SECRET, ai_targets, store_key
from bench._load import LoadClient
from bench._procs import (
    count_rows,
    cpu_seconds,
    fake_provider,
    helioscope,
    is_writer_process,
    process_tree,
)

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
    the gateway's CPU per call, not its wall time, decides the latency it adds under load.

    "gateway" is every Helioscope process (workers, and the writer's own with
    ``--writer-process``): journal and writer included. "loop" is the serving processes' event
    loop threads alone (the rest is SQLite's threads and the writer's process); "writer" the
    writer's own process, when it has one.
    """

    def __init__(self, provider_pid: int, gateway_pid: int) -> None:
        tree = process_tree(gateway_pid)
        self.writers = [pid for pid in tree if is_writer_process(pid)]
        self.serving = [pid for pid in tree if pid not in self.writers]
        self.tree = tree
        self.pids = {"client": os.getpid(), "provider": provider_pid, "gateway": gateway_pid}
        self.names = [*self.pids, "loop", *(["writer"] if self.writers else [])]
        self.used: dict[str, dict[str, float]] = {}
        self.calls: dict[str, int] = {}

    def sample(self) -> dict[str, float]:
        used = {"client": cpu_seconds(self.pids["client"])}
        used["provider"] = cpu_seconds(self.pids["provider"])
        used["gateway"] = sum(cpu_seconds(pid) for pid in self.tree)
        used["loop"] = sum(cpu_seconds(pid, thread=pid) for pid in self.serving)
        if self.writers:
            used["writer"] = sum(cpu_seconds(pid) for pid in self.writers)
        return used

    async def settle(self, limit: float = 5.0) -> None:
        """Wait until the gateway process is idle (under 10% of a core over 50 ms)."""
        deadline = time.monotonic() + limit
        last = self.sample()["gateway"]
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            now = self.sample()["gateway"]
            if now - last < 0.005:
                return
            last = now

    def add(self, target: str, before: dict[str, float], calls: int) -> None:
        after = self.sample()
        used = self.used.setdefault(target, dict.fromkeys(self.names, 0.0))
        for name in self.names:
            used[name] += after[name] - before[name]
        self.calls[target] = self.calls.get(target, 0) + calls

    def report(self) -> None:
        print(f"\nCPU per call, us{'':5}" + "".join(f"{name:>10}" for name in self.names))
        for target, used in self.used.items():
            per = [used[name] / self.calls[target] * 1e6 for name in self.names]
            print(f"{target:21}" + "".join(f"{value:10.0f}" for value in per))


Round = Callable[[str, Headers, int, bytes, "int | None"], Awaitable[tuple[list[float], float]]]
FirstChunks = Callable[[], list[float]]
Lateness = Callable[[], list[float]]


@asynccontextmanager
async def load_client(
    args: argparse.Namespace,
) -> AsyncIterator[tuple[Round, FirstChunks, Lateness]]:
    """The load generator: the lean one (default), or aiohttp's client for comparison.

    With it, the times to the first body bytes of the last round's calls, and (``--rate``) how
    late after its scheduled time each call was sent (the lean one only).
    """
    if args.client == "lean":
        client = LoadClient(args.concurrency)
        run: Round = client.run_round
        if args.rate:

            async def run(
                url: str, headers: Headers, n: int, body: bytes, status: int | None
            ) -> tuple[list[float], float]:
                return await client.run_rate(url, headers, n, body, status, args.rate)

        try:
            yield run, lambda: client.first_chunk, lambda: client.late
        finally:
            client.close()
        return
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def run_aiohttp(
            url: str, headers: Headers, n: int, body: bytes, status: int | None
        ) -> tuple[list[float], float]:
            return await run_round(session, url, headers, n, args.concurrency, body, status)

        yield run_aiohttp, list, list


@dataclass
class Target:
    """A load target: where to send, what, and against which target its added latency is told."""

    url: str
    headers: Headers
    status: int
    body: bytes
    baseline: str = "direct"


async def bench(
    direct: str,
    gateway: str,
    key: str,
    args: argparse.Namespace,
    meter: CpuMeter,
    begin: Callable[[], None],
) -> None:
    body = STREAM_BODY if args.stream else BODY
    base = {"content-type": "application/json", "authorization": "Bearer sk-bench"}
    gw = f"{gateway}/oai/v1/chat/completions"
    auth = {**base, "helicone-auth": f"Bearer {key}"}
    targets = {
        "direct": Target(f"{direct}/v1/chat/completions", base, 200, body),
        "gateway": Target(gw, auth, 200, body),
    }
    if args.controls:
        targets.update({name: Target(*t, body) for name, t in control_targets(gw, auth).items()})
    if args.ai_gateway:
        targets.update(
            {name: Target(*t) for name, t in ai_targets(direct, gateway, key, args.stream).items()}
        )
    results, firsts, rates, late = await run_rounds(targets, args, meter, begin)
    meter.report()
    report(targets, results, firsts, rates, args)
    if any(late.values()):
        # The load generator shares the cores: if it sends late, its latencies include that.
        print(
            "sent late (the load generator's own lateness, included above): "
            + "; ".join(
                f"{name} p50 {pct(v, 50):.3f} ms, p99 {pct(v, 99):.3f} ms, max {max(v):.3f} ms"
                for name, v in late.items()
                if v
            )
        )


async def run_rounds(
    targets: dict[str, Target],
    args: argparse.Namespace,
    meter: CpuMeter,
    begin: Callable[[], None],
) -> tuple[dict[str, list[float]], ...]:
    """Alternating rounds of every target: latencies, times to first chunk, rates, lateness.

    ``begin`` is called once the warm-up is over, as the timed rounds begin.
    """
    results: dict[str, list[float]] = {name: [] for name in targets}
    firsts: dict[str, list[float]] = {name: [] for name in targets}
    rates: dict[str, list[float]] = {name: [] for name in targets}
    late: dict[str, list[float]] = {name: [] for name in targets}
    async with load_client(args) as (run, first_chunk, lateness):
        for t in targets.values():  # warm up connections, caches and buckets
            await run(t.url, t.headers, 100, t.body, None)
        begin()
        order = list(targets.items())
        for round_index in range(args.rounds):
            # Rotate the order each round, so that no target always follows another.
            shift = round_index % len(order)
            for name, t in order[shift:] + order[:shift]:
                before = meter.sample()
                lat, rate = await run(t.url, t.headers, args.per_round, t.body, t.status)
                # The log writer finishes a round's last batches after its last call: let it,
                # and charge its CPU to this round, rather than slow the next round (the
                # direct one, half the time, which would flatter the difference).
                await meter.settle()
                meter.add(name, before, args.per_round)
                results[name] += lat
                firsts[name] += first_chunk()
                late[name] += lateness()
                rates[name].append(rate)
    return results, firsts, rates, late


def report(
    targets: dict[str, Target],
    results: dict[str, list[float]],
    firsts: dict[str, list[float]],
    rates: dict[str, list[float]],
    args: argparse.Namespace,
) -> None:
    """The table (each target against its baseline), then the headline numbers."""
    head = f"{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}{'req/s':>10}{'+p50':>9}{'+p99':>9}"
    print(f"\n{'':18}{head}{'first p50':>11}{'+first':>9}  baseline")
    for name, values in results.items():
        b = targets[name].baseline
        base, first = results[b], firsts[name]
        added_first = (
            f"{pct(first, 50):11.3f}{pct(first, 50) - pct(firsts[b], 50):9.3f}" if first else ""
        )
        print(
            f"{name:18}{pct(values, 50):10.3f}{pct(values, 90):10.3f}{pct(values, 99):10.3f}"
            f"{statistics.median(rates[name]):10.0f}"
            f"{pct(values, 50) - pct(base, 50):9.3f}{pct(values, 99) - pct(base, 99):9.3f}"
            f"{added_first}  {b}"
        )
    d, g = results["direct"], results["gateway"]
    load = f"open-loop at {args.rate:g} calls/s" if args.rate else f"{args.concurrency} connections"
    kind = f"{'stream' if args.stream else 'json'}, {load}"
    print(
        f"\nadded latency: p50 {pct(g, 50) - pct(d, 50):.3f} ms,"
        f" p99 {pct(g, 99) - pct(d, 99):.3f} ms"
        f"; gateway/direct p50 {pct(g, 50) / pct(d, 50):.2f}x, p99 {pct(g, 99) / pct(d, 99):.2f}x"
        f"; throughput ratio gateway/direct "
        f"{statistics.median(rates['gateway']) / statistics.median(rates['direct']):.2f}"
        f" ({kind}, {args.client} client, {len(g)} calls each way)"
    )
    if args.ai_gateway:
        a, ad = results["ai-gateway"], results["anthropic-direct"]
        fa, fad = firsts["ai-gateway"], firsts["anthropic-direct"]
        print(
            f"AI Gateway (OpenAI client -> Anthropic upstream, translated) added:"
            f" p50 {pct(a, 50) - pct(ad, 50):.3f} ms, p99 {pct(a, 99) - pct(ad, 99):.3f} ms,"
            f" first chunk p50 {pct(fa, 50) - pct(fad, 50):.3f} ms ({kind})"
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
        "--rate",
        type=float,
        default=None,
        help="calls/s per target, open-loop (latency from the scheduled send); default: saturate",
    )
    parser.add_argument(
        "--client",
        choices=("lean", "aiohttp"),
        default="lean",
        help="load generator (aiohttp's costs ~4x the CPU per call, which the gateway then lacks)",
    )
    parser.add_argument(
        "--writer-process",
        action="store_true",
        help="serve --writer-process: the log writer in a process of its own",
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--controls", action="store_true", help="add cache and rate-limit targets")
    parser.add_argument("--redis", default=None, help="Redis URL for the controls' backends")
    parser.add_argument(
        "--gc",
        action="store_true",
        help="print the server's garbage collections during the rounds (pauses, CPU per call)",
    )
    parser.add_argument(
        "--ai-gateway",
        action="store_true",
        help="add a translated AI Gateway call (OpenAI in, Anthropic upstream) and its baseline",
    )
    args = parser.parse_args()
    if args.rate and args.client != "lean":
        parser.error("--rate needs the lean client")
    extra = {"redis_url": args.redis, "redis_key_prefix": f"bench-{uuid.uuid4().hex}:"}
    settings = extra if args.redis else {}
    if args.ai_gateway:
        settings = {**settings, "secret_key": SECRET}
    with tempfile.TemporaryDirectory() as tmp, fake_provider() as direct:
        collections = Path(tmp) / "gc"
        with (
            gc_probe.probed(collections) if args.gc else nullcontext(),
            helioscope(
                direct.url,
                Path(tmp),
                args.database_url,
                writer_process=args.writer_process,
                **settings,
            ) as server,
        ):
            if args.ai_gateway:
                store_key(server.url, server.key)
            meter = CpuMeter(direct.pid, server.pid)
            begin = (lambda: gc_probe.begin(collections)) if args.gc else (lambda: None)
            uvloop.run(bench(direct.url, server.url, server.key, args, meter, begin))
        logged = count_rows(server)
        if args.redis:
            drop_keys(args.redis, extra["redis_key_prefix"])
        gateway_targets = (5 if args.controls else 1) + (1 if args.ai_gateway else 0)
        expected = (args.rounds * args.per_round + 100) * gateway_targets
        print(
            f"logged rows: {logged} (gateway calls: {expected}; lost: {max(0, expected - logged)})"
        )
        if args.gc:
            gc_probe.report(collections, expected - 100 * gateway_targets)


if __name__ == "__main__":
    main()
