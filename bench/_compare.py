"""The same store queries timed on two engines in one run, printed side by side.

A query is a log query function of one organization (``db -> awaitable``), run through a log
runner: ``store.log.org(org)`` on SQLite, ``ClickHouseLog.org(org)`` on ClickHouse, so the very
same function runs on both. Where ClickHouse has a form of its own, the query names it
(``Query.clickhouse``) and the table says so.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from helioscope.store import OrgDb

Call = Callable[[OrgDb], Awaitable[Any]]


class OrgReads(Protocol):
    """An organization's log runner: ``store.log.org(org)`` or ``ClickHouseLog.org(org)``."""

    async def read(self, fn: Call) -> Any: ...


TARGET_MS = 150.0


@dataclass(frozen=True, slots=True)
class Query:
    """A named query: the store's function, and ClickHouse's own form where it needs one."""

    name: str
    call: Call
    clickhouse: Call | None = None
    why: str = ""


@dataclass(frozen=True, slots=True)
class Timing:
    """p50 and p95 of a query's runs, in ms, how many rows its last run returned, and the
    median CPU time of a run (ms, every thread of this process: chdb and SQLite run inside it).

    On a shared machine the wall time mostly measures the other processes (load 6-15 on two
    cores here); the CPU a query burns is what it costs, and on an idle two-core machine its
    wall time is about that CPU time over the cores the engine uses.
    """

    p50: float
    p95: float
    size: int
    cpu: float = 0.0


def _size(result: Any) -> int:
    if isinstance(result, tuple):
        result = result[0]
    return len(result) if isinstance(result, list | dict) else 1


async def measure(runs: int, fn: Callable[[], Awaitable[Any]]) -> Timing:
    """Run once to warm caches, then ``runs`` times; the percentiles of those runs."""
    await fn()
    samples, cpus = [], []
    result: Any = None
    for _ in range(runs):
        cpu = _cpu_seconds()
        start = time.perf_counter()
        result = await fn()
        samples.append((time.perf_counter() - start) * 1000)
        cpus.append((_cpu_seconds() - cpu) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(0.95 * len(samples)))]
    return Timing(statistics.median(samples), p95, _size(result), statistics.median(cpus))


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


async def time_queries(
    queries: list[Query], log: OrgReads, runs: int, on_clickhouse: bool
) -> AsyncIterator[tuple[Query, Timing]]:
    """Each query's timing on one engine (ClickHouse forms used where a query has one)."""
    for query in queries:
        call = query.clickhouse if on_clickhouse and query.clickhouse else query.call

        async def run(call: Call = call) -> Any:
            return await log.read(call)

        yield query, await measure(runs, run)


def print_one(query: Query, timing: Timing) -> None:
    """One engine's line, as the benchmarks always printed it."""
    print(
        f"{query.name:44} p50 {timing.p50:8.1f} ms   p95 {timing.p95:8.1f} ms   "
        f"cpu {timing.cpu:7.0f} ms   ({timing.size} rows)",
        flush=True,
    )


def print_table(
    baseline: dict[str, Timing], clickhouse: dict[str, Timing], queries: list[Query], rows: str
) -> None:
    """ClickHouse beside SQLite: p50s, the ratio, ClickHouse's p95, and the form it ran."""
    print(
        f"\n{'query':44} {'SQLite p50':>11} {'ClickHouse p50':>15} {'ratio':>7} {'CH p95':>9}"
        f" {'SQLite cpu':>11} {'CH cpu':>8}"
    )
    print(f"{'':44} {rows:>27}")
    for query in queries:
        base, ch = baseline[query.name], clickhouse[query.name]
        form = f"  ClickHouse form: {query.why}" if query.clickhouse else ""
        flag = "" if ch.p50 <= TARGET_MS else f"  OVER {TARGET_MS:.0f} ms"
        print(
            f"{query.name:44} {base.p50:9.1f}ms {ch.p50:13.1f}ms {base.p50 / ch.p50:6.1f}x "
            f"{ch.p95:7.1f}ms {base.cpu:9.0f}ms {ch.cpu:6.0f}ms{flag}{form}",
            flush=True,
        )
