"""An in-memory cache of the prompt versions calls use, so a warm gateway reads no database.

Entries expire after ``ttl`` seconds, so a change made by another process (another replica, the
CLI) is seen within that time. Changes made through this process's store clear the cache at
once. The cache is bounded: past ``max_entries`` it starts over.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    """Values by key, each kept ``ttl`` seconds."""

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[V, float]] = {}
        self.misses = 0  # how many lookups went to the database (tests and benchmarks read it)

    def get(self, key: Hashable) -> V | None:
        """The fresh value under ``key``, or None."""
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[1] > self.ttl:
            return None
        return entry[0]

    def put(self, key: Hashable, value: V) -> None:
        """Remember ``value`` under ``key``."""
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (value, time.monotonic())

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[V]]) -> V:
        """The cached value, or ``load()``'s result, remembered."""
        value = self.get(key)
        if value is None:
            self.misses += 1
            value = await load()
            self.put(key, value)
        return value

    def clear(self) -> None:
        """Forget everything (after a change to any prompt)."""
        self._entries.clear()
