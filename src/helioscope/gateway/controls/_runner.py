"""One controlled call, in Helicone's order.

Cache, rate limit, security, moderation, the upstream call (token limits, fallbacks, retries),
then saving to the cache and charging cents.

The proxy calls ``GatewayControls.run`` only when a call carries a control header; everything
here is off the path of a plain call.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp
import orjson

from helioscope._asgi import Receive, Send, send_error
from helioscope._guard import InternalErrorGuard
from helioscope.errors import HelioscopeError
from helioscope.gateway.controls._cache import CachedResponse, RememberingCache, cache_keys
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
from helioscope.gateway.controls._upstream import Attempt, open_controlled, response_headers
from helioscope.gateway.upstream import UpstreamClient, UpstreamResponse
from helioscope.ingest import CallCapture, build_log_row
from helioscope.store import NANO_USD

logger = logging.getLogger("helioscope.gateway")
CACHE_READ_TIMEOUT = 2.0  # Helicone gives up on the cache after 2 s and calls the provider
Opener = Callable[[], Awaitable[UpstreamResponse]]


class Forwarder(Protocol):
    """The proxy's relay, called with a custom upstream opener and extra response headers."""

    async def __call__(
        self,
        headers: list[tuple[str, str]],
        capture: CallCapture,
        receive: Receive,
        send: Send,
        opener: Opener,
        extra: list[tuple[bytes, bytes]],
    ) -> None: ...


@dataclass(slots=True)
class ControlledCall:
    """The parts of a call the controls need."""

    method: str
    # The upstream URL. It is also the URL in the cache key where Helicone uses its own URL:
    # replicas reached under different host names then still share one cache.
    url: str
    base: str  # the upstream origin, for the moderation endpoint
    tail: str  # path and query after the route prefix, appended to fallback targets
    headers: list[tuple[str, str]]
    capture: CallCapture
    stored_headers: list[tuple[str, str]] = field(default_factory=list)  # for the cache entry


def _rate_headers(policy: RatePolicy, state: BucketState) -> list[tuple[bytes, bytes]]:
    return [
        (b"helicone-ratelimit-limit", str(policy.quota).encode()),
        (b"helicone-ratelimit-remaining", str(state.remaining).encode()),
        (b"helicone-ratelimit-policy", policy.normalized.encode()),
        (b"helicone-ratelimit-reset", str(state.reset).encode()),
    ]


class GatewayControls:
    """Cache, rate limits, security, moderation, token limits, retries and fallbacks."""

    def __init__(
        self,
        *,
        cache: RememberingCache,
        buckets: Buckets,
        detector: PromptInjectionDetector,
        session: aiohttp.ClientSession,
        upstream: UpstreamClient,
        guard: InternalErrorGuard,
        enqueue: Callable[[CallCapture], None],
    ) -> None:
        self.cache = cache
        self.buckets = buckets
        self.upstream = upstream
        self.guard = guard
        self.screening = Screening(detector, session, guard, enqueue)
        self._tasks: set[asyncio.Task[None]] = set()

    async def settle(self) -> None:
        """Wait for background work (cache writes, cents charges) to finish."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    def _background(self, what: str, work: Awaitable[None]) -> None:
        async def run() -> None:
            with self.guard.internal_errors(what):
                await work

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run(
        self,
        controls: Controls,
        call: ControlledCall,
        forward: Forwarder,
        receive: Receive,
        send: Send,
    ) -> None:
        """Serve a call that carries control headers."""
        capture = call.capture
        extra = [(b"helicone-id", capture.request_id.encode())]
        try:
            await self._run(controls, call, forward, receive, send, extra)
        except HelioscopeError as exc:
            capture.status, capture.error = exc.status, exc.message
            await send_error(send, exc.status, exc.message, extra)

    async def _run(
        self,
        controls: Controls,
        call: ControlledCall,
        forward: Forwarder,
        receive: Receive,
        send: Send,
        extra: list[tuple[bytes, bytes]],
    ) -> None:
        capture = call.capture
        free = await self._from_cache(controls, call, send, extra)
        if free is None:
            return
        policy, bucket = controls.rate_limit, None
        if policy is not None:
            bucket = policy.bucket_key(
                capture.organization_id, capture.helicone.user_id, capture.helicone.properties
            )
            if await self._rate_limited(policy, bucket, capture, send, extra):
                return
        if await self.screening.refused(
            controls, call.capture, call.base, call.headers, send, extra
        ):
            return
        if controls.token_limit is not None:
            self._fit(controls.token_limit, capture)
        await forward(
            call.headers, capture, receive, send, self._opener(controls, call, extra), extra
        )
        self._after(controls, call, free, policy, bucket)

    async def _from_cache(
        self, controls: Controls, call: ControlledCall, send: Send, extra: list[tuple[bytes, bytes]]
    ) -> list[str] | None:
        """Answer from the cache when every bucket is filled (None); else the free keys."""
        settings, capture = controls.cache, call.capture
        if settings is None:
            return []
        capture.cache_enabled = True
        self._cache_properties(controls, capture)
        keys = cache_keys(settings, call.url, capture.request_body)
        if not settings.read:
            return keys
        hit, free = await self._lookup(capture.organization_id, keys)
        if hit is None:
            extra.append((b"helicone-cache", b"MISS"))
            return free
        index, entry = hit
        extra += [(b"helicone-cache", b"HIT"), (b"helicone-cache-bucket-idx", b"%d" % index)]
        await replay(send, capture, entry, extra)
        return None

    async def _rate_limited(
        self,
        policy: RatePolicy,
        bucket: str,
        capture: CallCapture,
        send: Send,
        extra: list[tuple[bytes, bytes]],
    ) -> bool:
        """Draw from the bucket; True when the call was refused with Helicone's 429."""
        # u=cents only checks before the call; the real cost is charged after it (_charge).
        state = await self._step(policy, bucket, "check" if policy.unit == "cents" else "take", 1)
        if state is None:
            return False
        extra += _rate_headers(policy, state)
        if state.allowed:
            return False
        capture.helicone.properties["Helicone-Rate-Limit-Status"] = "bucket_rate_limited"
        await send_body(send, capture, 429, orjson.dumps({"message": RATE_LIMITED_MESSAGE}), extra)
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

    def _opener(
        self, controls: Controls, call: ControlledCall, extra: list[tuple[bytes, bytes]]
    ) -> Opener:
        async def open_upstream() -> UpstreamResponse:
            base = Attempt(call.method, call.url, call.headers, call.capture.request_body)
            outcome = await open_controlled(
                self.upstream, base, call.tail, controls.retry, controls.fallbacks
            )
            call.capture.target_url = outcome.url
            if outcome.fallback_index is not None:
                extra.append((b"helicone-fallback-index", str(outcome.fallback_index).encode()))
            if controls.cache is not None and controls.cache.save:
                call.stored_headers = response_headers(outcome.response, _HOP_BY_HOP)
            return outcome.response

        return open_upstream

    def _after(
        self,
        controls: Controls,
        call: ControlledCall,
        free: list[str],
        policy: RatePolicy | None,
        bucket: str | None,
    ) -> None:
        capture, settings = call.capture, controls.cache
        if settings is not None and settings.save and free and _cacheable(capture):
            entry = CachedResponse(
                request_id=capture.request_id,
                status=capture.status,
                headers=call.stored_headers,
                chunks=list(capture.chunks),
                latency_ms=round(((capture.ended or capture.started) - capture.started) * 1000),
                is_stream=capture.is_stream,
            )
            org, key, ttl = capture.organization_id, free[0], settings.max_age
            self._background(
                "saving to the gateway cache", self.cache.put(org, key, entry.encode(), ttl)
            )
        if policy is not None and bucket is not None and policy.unit == "cents":
            self._background("charging a cents bucket", self._charge(policy, bucket, capture))

    async def _charge(self, policy: RatePolicy, bucket: str, capture: CallCapture) -> None:
        cost = build_log_row(capture).cost or 0
        cents = cost * 100 / NANO_USD  # the log row's cost is in the store's unit
        if cents > 0:
            await self.buckets.step(bucket, policy.quota, policy.window, "charge", cents)


_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"trailer",
        b"upgrade",
    }
)


def _cacheable(capture: CallCapture) -> bool:
    return 200 <= capture.status < 300 and capture.completed and bool(capture.chunks)
