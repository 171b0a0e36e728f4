"""The garbage collector paused while a batch of log records is parsed, converted or stored.

An OTLP export parses into ~12,000 containers (a dict and a list per span, two dicts per
attribute) that live until its last span is converted and die together by reference counting:
none can be garbage in a cycle, so every collection that runs meanwhile traverses them for
nothing, and the young collections promote them, so the older ones traverse them again. In the
server under ``bench/ingest.py --otlp`` (chdb) the collector took ~11 us of CPU per stored log,
most of it over exports in flight. Paused from the parse to the journal, the collection that
follows finds the export gone. The writer's batches (rows decoded from the journal, their
columns, the rollups' sums) are the same case, paused from decoding to stored.

Batches overlap (a conversion yields to the loop every few hundred spans): the collector is
paused while any is in flight, and let run again when the last one ends, or after
``MAX_PAUSE`` seconds, whichever comes first (then the next allocation runs the collection
that is due): a timer on the event loop ends a pause that batches kept overlapping, or that
one long block held (a writer's batch retried row by row, a slow store). A collector that
someone else disabled is left alone.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager

# A writer's batch of 10,000 OTLP logs is built and stored in ~0.4 s on chdb.
MAX_PAUSE = 1.0


class _State:
    depth = 0  # batches in flight
    paused = False  # the collector was disabled here (and is to be enabled here)
    since = 0.0
    pause = 0  # which pause this is (the timer ends only its own)


def _resume() -> None:
    _State.paused = False
    gc.enable()


def _expire(pause: int) -> None:
    if _State.paused and _State.pause == pause:
        _resume()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the collector paused (see the module's docstring)."""
    state = _State
    state.depth += 1
    if not state.paused and gc.isenabled():
        gc.disable()
        state.paused = True
        state.since = time.monotonic()
        state.pause += 1
        try:
            asyncio.get_running_loop().call_later(MAX_PAUSE, _expire, state.pause)
        except RuntimeError:  # no loop (a command, a test): the block's end is the bound
            pass
    try:
        yield
    finally:
        state.depth -= 1
        if state.paused and (state.depth == 0 or time.monotonic() - state.since > MAX_PAUSE):
            _resume()
