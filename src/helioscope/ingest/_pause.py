"""The garbage collector paused while a batch of log records is parsed, converted or stored.

An OTLP export parses into ~12,000 containers (a dict and a list per span, two dicts per
attribute) that live until its last span is converted and die together by reference counting:
none can be garbage in a cycle, so every collection that runs meanwhile traverses them for
nothing, and the young collections promote them, so the older ones traverse them again. In the
server under ``bench/ingest.py --otlp`` (chdb) the collector took ~11 us of CPU per stored log,
most of it over exports in flight. Paused from the parse to the journal, the collection that
follows finds the export gone. The writer's batches (rows decoded from the journal, their
columns, the rollups' sums) are the same case, paused from decoding to stored.

Batches overlap (a conversion yields to the loop every hundred spans): the collector is paused
while any is in flight, and let run again when the last one ends, or when it has been paused
for ``MAX_PAUSE`` seconds by batches that kept overlapping (then the next allocation runs the
collection that is due). A collector that someone else disabled is left alone.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager

MAX_PAUSE = 0.2


class _State:
    depth = 0  # exports in flight
    paused = False  # the collector was disabled here (and is to be enabled here)
    since = 0.0


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the collector paused (see the module's docstring)."""
    state = _State
    state.depth += 1
    if not state.paused and gc.isenabled():
        gc.disable()
        state.paused = True
        state.since = time.monotonic()
    try:
        yield
    finally:
        state.depth -= 1
        if state.paused and (state.depth == 0 or time.monotonic() - state.since > MAX_PAUSE):
            state.paused = False
            gc.enable()
