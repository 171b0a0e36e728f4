"""``bench/gateway.py --gc``: the server's garbage collections during the timed rounds.

``sitecustomize.py`` here is loaded into the server process (``PYTHONPATH``) and writes one
line per collection; ``report`` sums them up.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent


@contextmanager
def probed(out: Path) -> Iterator[None]:
    """Processes started inside load the probe, writing to ``out`` (once ``begin`` is called)."""
    saved = {name: os.environ.get(name) for name in ("PYTHONPATH", "HELIOSCOPE_BENCH_GC")}
    path = os.pathsep.join(p for p in (str(HERE), saved["PYTHONPATH"]) if p)
    os.environ.update({"PYTHONPATH": path, "HELIOSCOPE_BENCH_GC": str(out)})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def begin(out: Path) -> None:
    """From now on the server records its collections (the timed rounds begin)."""
    Path(f"{out}.go").touch()


def report(out: Path, calls: int) -> None:
    """Full collections (count, CPU and wall ms) and the younger ones' CPU per gateway call."""
    try:
        lines = out.read_text().splitlines()
    except FileNotFoundError:
        lines = []
    records = [(int(g), float(c), float(w)) for g, c, w in (line.split() for line in lines)]
    full_cpu = sorted(c for g, c, _ in records if g == 2)
    full_wall = sorted(w for g, _, w in records if g == 2)
    young = [c for g, c, _ in records if g < 2]
    line = f"server GC during the rounds: {len(full_cpu)} full collections"
    if full_cpu:
        mid = len(full_cpu) // 2
        line += (
            f" (CPU ms p50 {full_cpu[mid]:.1f}, max {full_cpu[-1]:.1f};"
            f" wall ms p50 {full_wall[mid]:.1f}, max {full_wall[-1]:.1f})"
        )
    per_call = sum(young) / max(calls, 1) * 1000
    print(f"{line}, {len(young)} younger ones ({per_call:.1f} us of CPU per gateway call)")
