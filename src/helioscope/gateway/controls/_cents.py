"""``u=cents`` rate limits: each call's real cost charged to its bucket by the serving process.

A call's cost is known once its whole response is in (a stream's usage comes in its last
events). When the call ends, the serving process prices it (``call_cost_nano_usd``: the log
writer's own computation, run once more) and charges the bucket, in the background.

Why the serving process, and not the log writer as it stores the row: under ``serve --workers
N`` (or ``--writer-process``) one process writes the log for all, and it cannot reach another
worker's in-process buckets, so a writer-side charge left every call served elsewhere uncharged
without Redis. Here each worker charges the bucket it checked, which is the shared one when Redis
holds them, and each call is charged once: the writer charges nothing. The charge also no longer
waits for the writer's batch, nor for a store that is down. Only calls under a ``u=cents``
policy are priced twice; every other call's path is untouched.
"""

from __future__ import annotations

import asyncio

from helioscope._guard import InternalErrorGuard
from helioscope.gateway.controls._ratelimit import Buckets, RatePolicy
from helioscope.ingest import CallCapture, call_cost_nano_usd
from helioscope.store import NANO_USD


class CentsCharges:
    """The background charges of calls under a ``u=cents`` policy."""

    def __init__(self, buckets: Buckets, guard: InternalErrorGuard) -> None:
        self.buckets = buckets
        self.guard = guard
        self.tasks: set[asyncio.Task[None]] = set()

    def charge(self, capture: CallCapture, policy: RatePolicy, bucket: str) -> None:
        """Price the ended call and charge its cost to ``bucket`` (in the background)."""
        task = asyncio.get_running_loop().create_task(self._charge(capture, policy, bucket))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _charge(self, capture: CallCapture, policy: RatePolicy, bucket: str) -> None:
        with self.guard.internal_errors("charging a cents bucket"):
            # In a thread: a stream's whole body is parsed, and a worker that does not write the
            # log loads the price table (~0.3 s) at its first cents call; the loop relays on.
            cost = await asyncio.to_thread(call_cost_nano_usd, capture)
            if cost:  # unknown (None) or free: nothing to charge
                cents = cost * 100 / NANO_USD  # the store's unit, USD x 1e9
                await self.buckets.step(bucket, policy.quota, policy.window, "charge", cents)
