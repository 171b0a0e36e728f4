"""Loaded into the Helioscope server by ``bench/gateway.py --gc`` (through ``PYTHONPATH``).

Records every garbage collection of the ``serve`` process once the bench's timed rounds have
begun (the file ``$HELIOSCOPE_BENCH_GC.go`` exists): its generation, its wall time, and the
CPU time of the thread that ran it (a collection holds the GIL, so no call is relayed
meanwhile; CPU time does not count the neighbours' load). One line per collection, appended
to ``$HELIOSCOPE_BENCH_GC``.
"""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path
from typing import Any

_OUT = os.environ.get("HELIOSCOPE_BENCH_GC")
_SERVING = b"serve" in Path("/proc/self/cmdline").read_bytes().split(b"\0")


class _Probe:
    def __init__(self, out: str) -> None:
        self.out = out
        self.go = Path(out + ".go")
        self.started: tuple[float, float] | None = None

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self.started = (time.perf_counter(), time.thread_time()) if self.go.exists() else None
            return
        if self.started is None:
            return
        wall = (time.perf_counter() - self.started[0]) * 1000
        cpu = (time.thread_time() - self.started[1]) * 1000
        with open(self.out, "a") as fh:
            fh.write(f"{info['generation']} {cpu:.3f} {wall:.3f}\n")


if _OUT and _SERVING:
    gc.callbacks.append(_Probe(_OUT))
