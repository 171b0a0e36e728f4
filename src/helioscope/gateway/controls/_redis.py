"""Redis backends: one cache and one set of buckets shared by every replica.

Each bucket step is one Lua script, so a check and its deduction happen atomically on the Redis
server whatever the number of gateways; the script reads Redis's own clock so replicas with
drifting clocks still agree.

While Redis is unreachable the gateway keeps working: rate limits draw from in-process buckets
(per replica, so each replica enforces the full quota on its own) and the cache reads as a miss.
The outage is logged once when it starts and once when it ends (``RedisOutage``), not per call:
a per-call traceback would flood the log exactly when an operator needs it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from helioscope.gateway.controls._cache import Found
from helioscope.gateway.controls._ratelimit import MemoryBuckets, Mode

logger = logging.getLogger("helioscope.gateway")

# What an unreachable Redis raises; any other error (a script bug, a wrong type) is not an outage.
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
# How long to wait before asking a Redis that was down again: one attempt per second, not one
# connection attempt (maybe a timeout) per call.
RETRY_SECONDS = 1.0

# KEYS[1]: bucket. ARGV: capacity, window seconds, mode, amount.
# Returns {allowed (0/1), tokens as a string (a Lua number reply would be cut to an integer)}.
_STEP = """
local capacity = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local mode = ARGV[3]
local amount = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local last = tonumber(state[2])
if tokens == nil or last == nil then
  tokens = capacity
  last = now
end
tokens = math.min(capacity, tokens + math.max(0, now - last) * capacity / window)
local allowed = 1
if mode == 'take' then
  if tokens >= amount then tokens = tokens - amount else allowed = 0 end
elseif mode == 'check' then
  if tokens <= 0 then allowed = 0 end
else
  tokens = tokens - amount
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
-- Keep the bucket until it would be full again: from then on it is the same as a new one.
redis.call('EXPIRE', KEYS[1], math.ceil((capacity - tokens) * window / capacity) + 1)
return {allowed, tostring(tokens)}
"""


def connect(url: str) -> Any:
    """A pooled asyncio client for ``url``; a Redis that stops answering fails in seconds."""
    return aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


class RedisOutage:
    """Whether Redis is reachable; logs the start and the end of an outage, once each."""

    def __init__(self, retry_seconds: float = RETRY_SECONDS) -> None:
        self._retry = retry_seconds
        self._down_since: float | None = None
        self._last_try = 0.0

    def worth_trying(self) -> bool:
        """True when Redis is up, or was down and it is time to ask it again."""
        if self._down_since is None:
            return True
        now = time.monotonic()
        if now - self._last_try < self._retry:
            return False
        self._last_try = now
        return True

    def failed(self, exc: BaseException) -> None:
        """Redis did not answer: note it (logged when the outage starts only)."""
        self._last_try = time.monotonic()
        if self._down_since is None:
            self._down_since = self._last_try
            logger.warning(
                "Redis is unreachable (%s: %s); rate limits use in-process buckets and the "
                "gateway cache is bypassed until it is back",
                type(exc).__name__,
                exc,
            )

    def answered(self) -> None:
        """Redis answered: when it was down, log that the outage is over."""
        if self._down_since is not None:
            seconds = time.monotonic() - self._down_since
            self._down_since = None
            logger.warning("Redis is reachable again after %.1f s; back to shared buckets", seconds)


class RedisCache:
    """Cache entries as Redis strings with a TTL.

    Each value starts with its expiry (POSIX seconds and a newline), so that a replica reading
    it knows how long it may keep it in memory without asking Redis for the TTL.
    """

    def __init__(self, client: Any, prefix: str, outage: RedisOutage) -> None:
        self._client = client
        self._prefix = prefix + "cache:"
        self._outage = outage

    async def get_many(self, org_id: str, keys: list[str]) -> Found:
        """The stored values among ``keys`` (one MGET), with their expiry; none during an outage."""
        if not self._outage.worth_trying():
            return {}
        try:
            values = await self._client.mget([self._prefix + k for k in keys])
        except _UNREACHABLE as exc:
            self._outage.failed(exc)
            return {}
        self._outage.answered()
        found: Found = {}
        for key, raw in zip(keys, values, strict=True):
            if raw is not None:
                expires, _, value = bytes(raw).partition(b"\n")
                found[key] = (value, float(expires))
        return found

    async def put(self, org_id: str, key: str, value: bytes, ttl_seconds: int) -> None:
        """Store ``value`` for ``ttl_seconds``; dropped during an outage (a later miss)."""
        if not self._outage.worth_trying():
            return
        ttl = max(1, ttl_seconds)
        header = b"%.3f\n" % (time.time() + ttl)
        try:
            await self._client.set(self._prefix + key, header + value, ex=ttl)
        except _UNREACHABLE as exc:
            self._outage.failed(exc)
            return
        self._outage.answered()


class RedisBuckets:
    """Token buckets in Redis, each step atomic (one Lua script); in-process during an outage."""

    def __init__(self, client: Any, prefix: str, outage: RedisOutage) -> None:
        self._prefix = prefix
        self._script = client.register_script(_STEP)
        self._outage = outage
        # Fresh (full) buckets when an outage starts: a limit still holds, as in a new replica.
        self._fallback = MemoryBuckets()

    async def step(
        self, key: str, capacity: int, window: int, mode: Mode, amount: float
    ) -> tuple[bool, float]:
        """Refill and apply one step on the Redis server, or in this process when it is down."""
        if not self._outage.worth_trying():
            return await self._fallback.step(key, capacity, window, mode, amount)
        try:
            allowed, tokens = await self._script(
                keys=[self._prefix + key], args=[capacity, window, mode, repr(float(amount))]
            )
        except _UNREACHABLE as exc:
            self._outage.failed(exc)
            return await self._fallback.step(key, capacity, window, mode, amount)
        self._outage.answered()
        return bool(int(allowed)), float(tokens)
