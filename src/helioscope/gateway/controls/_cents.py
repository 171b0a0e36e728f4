"""``u=cents`` rate limits: each call's cost charged to its bucket once the writer has priced it.

The cost of a call is known only after its response is parsed and priced, which the log writer
does anyway, off the request's path. So the gateway books the charge when the call ends
(``expect``), and a listener on the writer (``on_rows``) charges each booked row's cost as the
row is stored: the cost is computed once, by the writer.

The listener runs where the writer runs. With the writer in this process (the default) every
booking is settled. A writer in another process would not see this process's bookings: with
several workers, ``u=cents`` needs the writer beside the gateway or Redis-shared buckets
charged by that writer's own listener.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from helioscope._guard import InternalErrorGuard
from helioscope.gateway.controls._ratelimit import Buckets, RatePolicy
from helioscope.ingest import CallCapture
from helioscope.store import NANO_USD, LogRow

MAX_BOOKED = 100_000  # a row that is never stored (dead-lettered) must not pin its booking


class CentsCharges:
    """Bookings of calls under a ``u=cents`` policy, settled from the writer's rows."""

    def __init__(self, buckets: Buckets, guard: InternalErrorGuard) -> None:
        self.buckets = buckets
        self.guard = guard
        self._booked: OrderedDict[tuple[str, str], tuple[RatePolicy, str]] = OrderedDict()
        self.tasks: set[asyncio.Task[None]] = set()

    def expect(self, capture: CallCapture, policy: RatePolicy, bucket: str) -> None:
        """Book a charge for a call about to be handed to the writer."""
        self._booked[(capture.organization_id, capture.request_id)] = (policy, bucket)
        while len(self._booked) > MAX_BOOKED:
            self._booked.popitem(last=False)

    def on_rows(self, rows: list[LogRow]) -> None:
        """The writer's listener: charge the booked rows of a stored batch (in the background)."""
        if not self._booked:
            return
        for row in rows:
            booked = self._booked.pop((row.organization_id, row.request_id), None)
            if booked is None or not row.cost:
                continue
            policy, bucket = booked
            task = asyncio.get_running_loop().create_task(
                self._charge(policy, bucket, row.cost * 100 / NANO_USD)  # the store's unit
            )
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _charge(self, policy: RatePolicy, bucket: str, cents: float) -> None:
        with self.guard.internal_errors("charging a cents bucket"):
            await self.buckets.step(bucket, policy.quota, policy.window, "charge", cents)
