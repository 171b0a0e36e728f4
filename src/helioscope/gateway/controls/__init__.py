"""Gateway controls with Helicone's headers and semantics.

Cache, rate limits, retries, fallbacks, moderation, LLM security and token-limit handling.

Each control is its own module; ``GatewayControls`` runs them in Helicone's order, before and
after the upstream attempts (``open_attempts``: retries and fallbacks). Backends are
embedded by default (the store for the cache, this process for buckets) and Redis when a Redis
URL is configured, so that replicas share one cache and one set of buckets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp

from helioscope._guard import InternalErrorGuard
from helioscope.gateway.controls._cache import (
    CacheBackend,
    CachedResponse,
    RememberingCache,
    StoreCache,
    cache_keys,
)
from helioscope.gateway.controls._options import (
    CONTROL_PREFIXES_RAW,
    Controls,
    parse_controls,
)
from helioscope.gateway.controls._ratelimit import Buckets, MemoryBuckets, RatePolicy, parse_policy
from helioscope.gateway.controls._runner import GatewayControls
from helioscope.gateway.controls._security import (
    Detection,
    HeuristicDetector,
    PromptInjectionDetector,
    load_detector,
)
from helioscope.gateway.controls._upstream import (
    Opened,
    fallback_attempts,
    open_attempts,
)
from helioscope.ingest import CallCapture
from helioscope.store import Store

__all__ = [
    "CONTROL_PREFIXES_RAW",
    "CacheBackend",
    "CachedResponse",
    "Controls",
    "Detection",
    "GatewayControls",
    "HeuristicDetector",
    "Opened",
    "PromptInjectionDetector",
    "RatePolicy",
    "build_controls",
    "cache_keys",
    "fallback_attempts",
    "open_attempts",
    "parse_controls",
    "parse_policy",
]


def build_controls(
    *,
    store: Store,
    session: aiohttp.ClientSession,
    guard: InternalErrorGuard,
    redis_client: Any | None,
    redis_prefix: str,
    detector: str | None,
    enqueue: Callable[[CallCapture], None],
) -> GatewayControls:
    """The controls with Redis backends when ``redis_client`` is given, else embedded ones."""
    cache: CacheBackend
    buckets: Buckets
    if redis_client is not None:
        from helioscope.gateway.controls._redis import RedisBuckets, RedisCache, RedisOutage

        outage = RedisOutage()  # one for both, so an outage is logged once, not per backend
        cache = RedisCache(redis_client, redis_prefix, outage)
        buckets = RedisBuckets(redis_client, redis_prefix, outage)
    else:
        cache, buckets = StoreCache(store), MemoryBuckets()
    return GatewayControls(
        cache=RememberingCache(cache),
        buckets=buckets,
        detector=load_detector(detector),
        session=session,
        guard=guard,
        enqueue=enqueue,
    )
