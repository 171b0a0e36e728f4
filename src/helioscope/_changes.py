"""Caches kept in step across gateway workers: a change counter in the store, polled.

A worker that changes something cached (an API key revoked, a provider key, a prompt, a
webhook) clears its own cache at once and bumps the counter; every worker polls the counter
every ``interval`` seconds and clears its caches when it has moved. One small read per interval
per worker, whatever the traffic.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from helioscope.store import Store, changes

logger = logging.getLogger("helioscope")


class ChangeFeed:
    """Bumps and watches the store's change counter; ``clears`` run when another worker changed."""

    def __init__(self, store: Store, *, interval: float = 0.5) -> None:
        self.store = store
        self.interval = interval
        self.clears: list[Callable[[], None]] = []
        self._seen: int | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def changed(self) -> None:
        """Tell the other workers (the caller has cleared its own cache)."""
        try:
            task = asyncio.get_running_loop().create_task(self._bump())
        except RuntimeError:  # no loop: a CLI command outside the server; nothing to tell
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _bump(self) -> None:
        try:
            value = await self.store.write(changes.bump)
        except Exception as exc:  # the store is down: the others catch up on their TTLs
            logger.warning("could not record a change for the other workers: %r", exc)
            return
        # Our own change, if nobody else's came between: this worker cleared its caches when it
        # made it, and clearing them again at the next poll would only cost a reload.
        if self._seen is not None and value == self._seen + 1:
            self._seen = value

    async def watch(self) -> None:
        """Poll the counter until cancelled; clear every cache when it moves."""
        while True:
            try:
                value = await self.store.read(changes.current)
                if self._tasks:
                    # A bump of ours is in flight: its value, once it has it, tells our own move
                    # from another worker's; this read may already include it, so wait a poll.
                    await asyncio.sleep(self.interval)
                    continue
                # The counter only grows: a read that began before our own bump committed may
                # answer after it, with the older value, and is no change.
                if self._seen is not None and value > self._seen:
                    for clear in self.clears:
                        clear()
                self._seen = value if self._seen is None else max(self._seen, value)
            except Exception:  # the store is down: the outage is reported elsewhere
                pass
            await asyncio.sleep(self.interval)

    async def settle(self) -> None:
        """Wait for bumps in flight (at shutdown)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
