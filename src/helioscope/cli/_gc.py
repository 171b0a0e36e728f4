"""The garbage collector of a running server: what startup built is frozen, never traversed.

Startup leaves ~250,000 objects the collector tracks (the imported code, FastAPI's routes,
pydantic's schemas, SQLAlchemy's tables, and genai-prices' table once the writer first prices
a call), alive for the whole run. Every full collection traversed all of them with the GIL
held: under ``bench/gateway.py --rate 1000`` a full collection ran every ~3 s (the writer's
batches, promoted while they wait for the store, fill the oldest generation) and took 160 ms
at the median, 578 ms at most on a loaded machine; no call was relayed meanwhile, which was
the fixed-rate p99. ``gc.freeze()`` moves the objects alive at that moment to a permanent
generation that collections skip, so a full collection only traverses what was made since.

Then the thresholds. With Python's (700, 10, 10), a batch of log records in flight was promoted
to the oldest generation while it was still being handled: an OTLP export parses into ~12,000
containers that live while its 500 spans are converted, so each gen-1 collection moved an
export's worth into generation 2, and the full collection that Python runs once a quarter of
it is new again came every few exports, each traversing every live batch (37 ms). Under
``bench/ingest.py --otlp`` (chdb, load 5-6) collections took 25 us of CPU per stored log,
a fifth of the server's; young generations 2,000 objects large and collected into the oldest
every 50 (100,000 allocations: the export is gone by then) took 10 us (8 full collections in
~40 s instead of 66 in ~30 s). (5000, 50, 1000), (20000, 20, 100) and (2000, 100, 1000) gave
8-9 us, with one full collection only: a third threshold of 10 keeps full collections coming
when garbage in cycles does reach the oldest generation.

An OTLP export is parsed and converted with the collector paused (``ingest/_pause.py``):
nothing it makes is garbage in a cycle, and collections over exports in flight were most of
what remained (11 → 6 us a stored log, store README "Ingest, round 6").

The GIL's switch interval is then shortened to half a millisecond (Python's is 5 ms). The
event loop releases the GIL at every poll and journal write; when the ClickHouse thread
holds it (clickhouse-connect encodes a block in Python), the loop waited up to the whole
interval to get it back. Under ``bench/ingest.py --otlp`` (chdb) logs stored end to end went
from 14,281-14,461 to 15,161-15,521 a second (interleaved, load 1.2-1.6).
"""

from __future__ import annotations

import asyncio
import gc
import sys

from helioscope.ingest.pricing import load_prices

THRESHOLDS = (2000, 50, 10)
SWITCH_INTERVAL = 0.0005


async def freeze_startup(*, prices: bool) -> None:
    """Load what the first call would, freeze, set the collector and the GIL (once up).

    ``prices``: this process's writer prices calls, so load the price table first (25 MB:
    a worker that only journals never loads it). The server accepts calls meanwhile: it loads
    in a thread (~0.3 s), so that this worker is not later to accept than the others (they
    share one socket).
    """
    if prices:
        await asyncio.to_thread(load_prices)
    gc.collect()  # startup's garbage: frozen, it would never be freed
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    sys.setswitchinterval(SWITCH_INTERVAL)
