"""The garbage collector of a running server: what startup built is frozen, never traversed.

Startup leaves ~250,000 objects the collector tracks (the imported code, FastAPI's routes,
pydantic's schemas, SQLAlchemy's tables, and genai-prices' table once the writer first prices
a call), alive for the whole run. Every full collection traversed all of them with the GIL
held: under ``bench/gateway.py --rate 1000`` a full collection ran every ~3 s (the writer's
batches, promoted while they wait for the store, fill the oldest generation) and took 160 ms
at the median, 578 ms at most on a loaded machine; no call was relayed meanwhile, which was
the fixed-rate p99. ``gc.freeze()`` moves the objects alive at that moment to a permanent
generation that collections skip, so a full collection only traverses what was made since.
"""

from __future__ import annotations

import asyncio
import gc

from helioscope.ingest.pricing import load_prices


async def freeze_startup(*, prices: bool) -> None:
    """Load what would otherwise load at the first call, then freeze (once the server is up).

    ``prices``: this process's writer prices calls, so load the price table first (25 MB:
    a worker that only journals never loads it). The server accepts calls meanwhile: it loads
    in a thread (~0.3 s), so that this worker is not later to accept than the others (they
    share one socket).
    """
    if prices:
        await asyncio.to_thread(load_prices)
    gc.collect()  # startup's garbage: frozen, it would never be freed
    gc.freeze()
