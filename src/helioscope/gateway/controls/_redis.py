"""Redis backends: one cache and one set of buckets shared by every replica.

Each bucket step is one Lua script, so a check and its deduction happen atomically on the Redis
server whatever the number of gateways; the script reads Redis's own clock so replicas with
drifting clocks still agree.
"""

from __future__ import annotations

import time
from typing import Any

import redis.asyncio as aioredis

from helioscope.gateway.controls._cache import Found
from helioscope.gateway.controls._ratelimit import Mode

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
    """A pooled asyncio client for ``url``."""
    return aioredis.Redis.from_url(url)


class RedisCache:
    """Cache entries as Redis strings with a TTL.

    Each value starts with its expiry (POSIX seconds and a newline), so that a replica reading
    it knows how long it may keep it in memory without asking Redis for the TTL.
    """

    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._prefix = prefix + "cache:"

    async def get_many(self, org_id: str, keys: list[str]) -> Found:
        """The stored values among ``keys`` (one MGET), with their expiry."""
        values = await self._client.mget([self._prefix + k for k in keys])
        found: Found = {}
        for key, raw in zip(keys, values, strict=True):
            if raw is not None:
                expires, _, value = bytes(raw).partition(b"\n")
                found[key] = (value, float(expires))
        return found

    async def put(self, org_id: str, key: str, value: bytes, ttl_seconds: int) -> None:
        """Store ``value`` for ``ttl_seconds``."""
        ttl = max(1, ttl_seconds)
        header = b"%.3f\n" % (time.time() + ttl)
        await self._client.set(self._prefix + key, header + value, ex=ttl)


class RedisBuckets:
    """Token buckets in Redis, each step atomic (one Lua script)."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._prefix = prefix
        self._script = client.register_script(_STEP)

    async def step(
        self, key: str, capacity: int, window: int, mode: Mode, amount: float
    ) -> tuple[bool, float]:
        """Refill and apply one step on the Redis server."""
        allowed, tokens = await self._script(
            keys=[self._prefix + key], args=[capacity, window, mode, repr(float(amount))]
        )
        return bool(int(allowed)), float(tokens)
