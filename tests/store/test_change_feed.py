"""The change counter keeps caches in step across workers (``helioscope._changes``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from helioscope._changes import ChangeFeed
from helioscope.store import Store


async def _until(condition: object, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


@contextlib.asynccontextmanager
async def _watching(feed: ChangeFeed) -> AsyncIterator[list[int]]:
    """``feed`` polling, with a record of its clears, once it has read the counter."""
    cleared: list[int] = []
    feed.clears.append(lambda: cleared.append(1))
    watching = asyncio.create_task(feed.watch())
    try:
        await _until(lambda: feed._seen is not None)
        yield cleared
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching


async def test_a_worker_clears_its_caches_for_others_changes_not_again_for_its_own(
    store: Store,
) -> None:
    mine, other = ChangeFeed(store, interval=0.01), ChangeFeed(store, interval=0.01)
    async with _watching(mine) as cleared:
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


class _SlowToAnswer:
    """The real store, whose writes answer only when the test says so: the counter has moved
    (committed) while the bump that moved it has not yet heard its value."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.gate = asyncio.Event()

    async def read(self, fn: object) -> object:
        return await self.store.read(fn)  # type: ignore[arg-type]

    async def write(self, fn: object) -> object:
        value: object = await self.store.write(fn)  # type: ignore[arg-type]
        await self.gate.wait()
        return value


async def test_a_poll_that_reads_its_own_bump_before_the_bump_answers_does_not_clear(
    store: Store,
) -> None:
    slow = _SlowToAnswer(store)
    mine = ChangeFeed(slow, interval=0.01)  # type: ignore[arg-type]
    async with _watching(mine) as cleared:
        mine.changed()
        await asyncio.sleep(0.2)  # polls read the moved counter while the bump waits
        slow.gate.set()
        await mine.settle()
        await asyncio.sleep(0.2)
        assert cleared == []
