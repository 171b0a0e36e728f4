"""Two calls timed against each other in one run, alternating so both see the same load."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

Call = Callable[[], Awaitable[Any]]
Percentiles = tuple[float, float]  # p50, p95 in µs


def percentiles(samples: list[float]) -> Percentiles:
    """The median and the 95th percentile of ``samples``."""
    samples = sorted(samples)
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


async def alternate(
    rounds: int, baseline: Call, measured: Call, warm: int = 20
) -> tuple[Percentiles, Percentiles]:
    """Run both ``rounds`` times, each round in the other order; their p50/p95 in µs."""
    for _ in range(warm):
        await baseline()
        await measured()
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(rounds):
        order = [(times[0], baseline), (times[1], measured)]
        for samples, call in order if i % 2 else reversed(order):
            start = time.perf_counter()
            await call()
            samples.append((time.perf_counter() - start) * 1e6)
    return percentiles(times[0]), percentiles(times[1])
