"""The response cache: Helicone's key, the stored entry, and the embedded backend.

A stored entry is the upstream status, headers and body chunks exactly as relayed, so a hit
replays a stream as a stream, chunk for chunk. Entries are stored as opaque bytes so the embedded
store and Redis keep the same values.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from helioscope.gateway.controls._options import CacheSettings
from helioscope.store import Store, gateway_cache


def _body_for_key(body: bytes, ignore_keys: tuple[str, ...]) -> str:
    text = body.decode("utf-8", "replace")
    if not ignore_keys:
        return text
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return text  # a non-JSON body enters the key as is
    if not isinstance(data, dict):
        return text
    for key in ignore_keys:  # top-level keys only, as Helicone does
        data.pop(key, None)
    return orjson.dumps(data).decode()


def cache_keys(settings: CacheSettings, url: str, body: bytes) -> list[str]:
    """The key of each bucket index, computed as Helicone's ``kvKeyFromRequest`` does.

    SHA-256 hex of: seed, the request URL, the body (minus ignored keys), the JSON of the
    ``helicone-cache*``/``helicone-auth``/``authorization`` headers, and the index when >= 1.
    """
    base = (
        (settings.seed or "")
        + url
        + _body_for_key(body, settings.ignore_keys)
        + orjson.dumps([list(pair) for pair in settings.key_headers]).decode()
    )
    return [
        hashlib.sha256((base + (str(i) if i >= 1 else "")).encode()).hexdigest()
        for i in range(settings.bucket_size)
    ]


@dataclass(slots=True)
class CachedResponse:
    """A response as relayed: enough to replay it byte for byte."""

    request_id: str  # the Helicone-Id of the call that produced it: hits reference it
    status: int
    headers: list[tuple[str, str]]
    chunks: list[bytes]
    latency_ms: int
    is_stream: bool

    def encode(self) -> bytes:
        """Bytes to store (latin-1 keeps every chunk byte intact inside JSON)."""
        return orjson.dumps(
            {
                "id": self.request_id,
                "status": self.status,
                "headers": self.headers,
                "body": [c.decode("latin-1") for c in self.chunks],
                "latency": self.latency_ms,
                "stream": self.is_stream,
            }
        )

    @classmethod
    def decode(cls, raw: bytes) -> CachedResponse:
        """The entry stored as ``raw``."""
        data = orjson.loads(raw)
        return cls(
            request_id=data["id"],
            status=data["status"],
            headers=[(k, v) for k, v in data["headers"]],
            chunks=[c.encode("latin-1") for c in data["body"]],
            latency_ms=data["latency"],
            is_stream=data["stream"],
        )


Found = dict[str, tuple[bytes, float]]  # key -> (value, expiry as a POSIX time)


class CacheBackend(Protocol):
    """Where entries live: the embedded store, or Redis when replicas share one cache."""

    async def get_many(self, org_id: str, keys: list[str]) -> Found:
        """The live values among ``keys``, with their expiry."""
        ...

    async def put(self, org_id: str, key: str, value: bytes, ttl_seconds: int) -> None:
        """Store ``value`` for ``ttl_seconds``."""
        ...


class RememberingCache:
    """A backend with the entries this process has written or read kept in memory.

    A hit then costs no round trip to the database or Redis. An entry never changes once
    written, so a remembered one cannot go stale before it expires; absence is never
    remembered, because another process may fill the key at any time.
    """

    def __init__(self, backend: CacheBackend, memory_entries: int = 4096) -> None:
        self.backend = backend
        self._memory: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._limit = memory_entries

    def _remember(self, key: str, value: bytes, expires: float) -> None:
        self._memory[key] = (expires, value)
        self._memory.move_to_end(key)
        while len(self._memory) > self._limit:
            self._memory.popitem(last=False)

    async def get_many(self, org_id: str, keys: list[str]) -> dict[str, bytes]:
        """The live values among ``keys``: from memory when all are there, else the backend."""
        now = time.time()
        found: dict[str, bytes] = {}
        for key in keys:
            remembered = self._memory.get(key)
            if remembered is not None and remembered[0] > now:
                found[key] = remembered[1]
        if len(found) == len(keys):
            return found
        stored = await self.backend.get_many(org_id, keys)
        for key, (value, expires) in stored.items():
            self._remember(key, value, expires)
            found[key] = value
        # What memory holds counts too: the backend write of an entry made a moment ago may
        # still be queued, and a bucket read as empty would be filled, and paid for, twice.
        return found

    def put(
        self, org_id: str, key: str, value: bytes, ttl_seconds: int
    ) -> Coroutine[Any, Any, None]:
        """Remember ``value`` now; return the backend write, to await or run in the background.

        Not a coroutine function: the entry must be readable before the next call's lookup,
        even while the write waits for its turn.
        """
        self._remember(key, value, time.time() + ttl_seconds)
        return self.backend.put(org_id, key, value, ttl_seconds)


PURGE_EVERY_SECONDS = 3600  # expired rows read as absent; deleting them only reclaims space


class StoreCache:
    """The embedded cache: the ``gateway_cache`` table (SQLite or PostgreSQL; survives restarts)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._pending: list[tuple[str, str, bytes, int]] = []
        self._lock = asyncio.Lock()
        self._purged = time.monotonic()

    async def get_many(self, org_id: str, keys: list[str]) -> Found:
        """The live values among ``keys``, with their expiry."""
        return await self._store.gateway_cache.get_many(org_id, keys)

    async def put(self, org_id: str, key: str, value: bytes, ttl_seconds: int) -> None:
        """Store ``value`` under ``key``, in group commits.

        Whoever takes the lock writes every entry queued so far in one transaction, so a burst
        of misses costs a few transactions instead of one each (SQLite has a single writer).
        """
        self._pending.append((org_id, key, value, ttl_seconds))
        async with self._lock:
            if not self._pending:
                return  # an earlier holder of the lock wrote this entry with its batch
            batch, self._pending = self._pending, []
            await self._store.write(gateway_cache.put_many, batch)
            if time.monotonic() - self._purged > PURGE_EVERY_SECONDS:
                self._purged = time.monotonic()
                await self._store.write(gateway_cache.purge_expired)
