"""The change counter keeps caches in step across workers (``helioscope._changes``)."""

from __future__ import annotations

import asyncio
import contextlib

from helioscope._changes import ChangeFeed
from helioscope.store import Store


async def _until(condition: object, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_a_worker_clears_its_caches_for_others_changes_not_again_for_its_own(
    store: Store,
) -> None:
    mine, other = ChangeFeed(store, interval=0.01), ChangeFeed(store, interval=0.01)
    cleared: list[int] = []
    mine.clears.append(lambda: cleared.append(1))
    watching = asyncio.create_task(mine.watch())
    try:
        await _until(lambda: mine._seen is not None)
        # Its own change: it cleared its caches when it made it (the caller does); polls that
        # follow must not clear them again.
        mine.changed()
        await mine.settle()
        await asyncio.sleep(0.2)  # about twenty polls
        assert cleared == []
        # Another worker's change clears them, once.
        other.changed()
        await other.settle()
        await _until(lambda: cleared == [1])
        await asyncio.sleep(0.1)
        assert cleared == [1]
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
