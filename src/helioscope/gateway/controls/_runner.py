"""The controls around one call, in Helicone's order: ``before`` the upstream call, ``after`` it.

``before`` reads the cache, draws from the rate-limit bucket, screens the prompt and fits it to
the model's context; it answers the call itself (a hit, a 429, a refused prompt) or lets it
proceed. ``after`` saves the answer to the cache and charges a ``u=cents`` bucket the call's
cost, priced in this process once its whole response is in (``CentsCharges``).

The gateway calls them only when a call carries a control header; everything here is off the
path of a plain call.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

import aiohttp
import orjson

from helioscope._asgi import Send
from helioscope._guard import InternalErrorGuard
from helioscope.gateway._call import Call
from helioscope.gateway.controls._cache import CachedResponse, RememberingCache, cache_keys
from helioscope.gateway.controls._cents import CentsCharges
from helioscope.gateway.controls._options import Controls
from helioscope.gateway.controls._ratelimit import (
    RATE_LIMITED_MESSAGE,
    Buckets,
    BucketState,
    Mode,
    RatePolicy,
)
from helioscope.gateway.controls._responses import replay, send_body
from helioscope.gateway.controls._screening import Screening, json_body
from helioscope.gateway.controls._security import PromptInjectionDetector
from helioscope.gateway.controls._tokens import fit_to_context
from helioscope.ingest import CallCapture

logger = logging.getLogger("helioscope.gateway")
CACHE_READ_TIMEOUT = 2.0  # Helicone gives up on the cache after 2 s and calls the provider


def _rate_headers(policy: RatePolicy, state: BucketState) -> list[tuple[bytes, bytes]]:
    return [
        (b"helicone-ratelimit-limit", str(policy.quota).encode()),
        (b"helicone-ratelimit-remaining", str(state.remaining).encode()),
        (b"helicone-ratelimit-policy", policy.normalized.encode()),
        (b"helicone-ratelimit-reset", str(state.reset).encode()),
    ]


class GatewayControls:
    """Cache, rate limits, security, moderation and token limits around a call."""

    def __init__(
        self,
        *,
        cache: RememberingCache,
        buckets: Buckets,
        detector: PromptInjectionDetector,
        session: aiohttp.ClientSession,
        guard: InternalErrorGuard,
        enqueue: Callable[[CallCapture], None],
    ) -> None:
        self.cache = cache
        self.buckets = buckets
        self.guard = guard
        self.screening = Screening(detector, session, guard, enqueue)
        self.cents = CentsCharges(buckets, guard)
        self._tasks: set[asyncio.Task[None]] = set()

    async def settle(self) -> None:
        """Wait for background work (cache writes, cents charges) to finish."""
        while self._tasks or self.cents.tasks:
            await asyncio.gather(*list(self._tasks), *list(self.cents.tasks))

    def _background(self, what: str, work: Awaitable[None]) -> None:
        async def run() -> None:
            with self.guard.internal_errors(what):
                await work

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def before(self, call: Call, send: Send) -> bool:
        """Run the controls that come before the upstream call; True when they answered it.

        Raises a ``HelioscopeError`` (a malformed rate-limit segment, a moderation endpoint
        that fails) for the gateway to answer.
        """
        controls = call.controls
        assert controls is not None
        if await self._from_cache(controls, call, send):
            return True
        policy = controls.rate_limit
        if policy is not None:
            capture = call.capture
            call.bucket = policy.bucket_key(
                capture.organization_id, capture.helicone.user_id, capture.helicone.properties
            )
            if await self._rate_limited(policy, call.bucket, call, send):
                return True
        if await self.screening.refused(controls, call, send):
            return True
        if controls.token_limit is not None:
            self._fit(controls.token_limit, call.capture)
        return False

    def after(self, call: Call) -> None:
        """Save the answer to the cache and charge the call's cents (in the background)."""
        controls, capture = call.controls, call.capture
        assert controls is not None
        settings = controls.cache
        if settings is not None and settings.save and call.free_cache_keys and _cacheable(call):
            entry = CachedResponse(
                request_id=capture.request_id,
                status=capture.status,
                headers=list(call.stored_headers),
                chunks=list(call.answered_chunks()),
                latency_ms=round(((capture.ended or capture.started) - capture.started) * 1000),
                is_stream=capture.is_stream,
            )
            org, key, ttl = capture.organization_id, call.free_cache_keys[0], settings.max_age
            self._background(
                "saving to the gateway cache", self.cache.put(org, key, entry.encode(), ttl)
            )
        policy = controls.rate_limit
        if policy is not None and call.bucket is not None and policy.unit == "cents":
            self.cents.charge(capture, policy, call.bucket)

    async def _from_cache(self, controls: Controls, call: Call, send: Send) -> bool:
        """Answer from the cache when every bucket is filled; else note the free keys."""
        settings, capture = controls.cache, call.capture
        if settings is None:
            return False
        capture.cache_enabled = True
        self._cache_properties(controls, capture)
        keys = cache_keys(settings, call.cache_url, capture.request_body)
        if not settings.read:
            call.free_cache_keys = keys
            return False
        hit, call.free_cache_keys = await self._lookup(capture.organization_id, keys)
        if hit is None:
            call.extra.append((b"helicone-cache", b"MISS"))
            return False
        index, entry = hit
        call.extra += [(b"helicone-cache", b"HIT"), (b"helicone-cache-bucket-idx", b"%d" % index)]
        await replay(send, capture, entry, call.extra)
        return True

    async def _rate_limited(self, policy: RatePolicy, bucket: str, call: Call, send: Send) -> bool:
        """Draw from the bucket; True when the call was refused with Helicone's 429."""
        # u=cents only checks before the call; the real cost is charged after it (CentsCharges).
        state = await self._step(policy, bucket, "check" if policy.unit == "cents" else "take", 1)
        if state is None:
            return False
        call.extra += _rate_headers(policy, state)
        if state.allowed:
            return False
        capture = call.capture
        capture.helicone.properties["Helicone-Rate-Limit-Status"] = "bucket_rate_limited"
        body = orjson.dumps({"message": RATE_LIMITED_MESSAGE})
        await send_body(send, capture, 429, body, call.extra)
        return True

    def _cache_properties(self, controls: Controls, capture: CallCapture) -> None:
        props = capture.helicone.properties
        for header, name in (
            ("helicone-cache-enabled", "Helicone-Cache-Enabled"),
            ("helicone-cache-seed", "Helicone-Cache-Seed"),
            ("helicone-cache-bucket-max-size", "Helicone-Cache-Bucket-Max-Size"),
            ("helicone-cache-control", "Helicone-Cache-Control"),
        ):
            if header in controls.raw:
                props[name] = controls.raw[header]

    async def _lookup(
        self, org_id: str, keys: list[str]
    ) -> tuple[tuple[int, CachedResponse] | None, list[str]]:
        """A random filled bucket when every bucket is filled, else None and the free keys."""
        found: dict[str, bytes] = {}
        with self.guard.internal_errors("reading the gateway cache"):
            try:
                found = await asyncio.wait_for(
                    self.cache.get_many(org_id, keys), CACHE_READ_TIMEOUT
                )
            except TimeoutError:
                logger.warning("gateway cache read timed out; calling the provider")
        free = [k for k in keys if k not in found]
        if free:
            return None, free
        index = random.randrange(len(keys))
        return (index, CachedResponse.decode(found[keys[index]])), []

    async def _step(
        self, policy: RatePolicy, bucket: str, mode: Mode, amount: float
    ) -> BucketState | None:
        """One bucket step; None when the backend failed (rate limits fail open)."""
        with self.guard.internal_errors("checking a rate-limit bucket"):
            allowed, tokens = await self.buckets.step(
                bucket, policy.quota, policy.window, mode, amount
            )
            return BucketState(allowed, tokens, policy.quota, policy.window)
        return None

    def _fit(self, handler: str, capture: CallCapture) -> None:
        body = json_body(capture.request_body)
        if isinstance(body, dict):
            fitted = fit_to_context(body, handler)
            capture.request_body = orjson.dumps(fitted)
            capture.request_json = fitted


def _cacheable(call: Call) -> bool:
    capture = call.capture
    return 200 <= capture.status < 300 and capture.completed and bool(call.answered_chunks())
