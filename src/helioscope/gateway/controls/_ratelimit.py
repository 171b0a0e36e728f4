"""Helicone-RateLimit-Policy: parsing, bucket keys, the token-bucket arithmetic and its headers.

The arithmetic lives here once; the in-process buckets run it directly and the Redis buckets run
the same steps in a Lua script (``_redis.py``), so both backends answer alike.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import Literal, Protocol

from helioscope.errors import BadRequest

_POLICY = re.compile(r"^(\d+);w=(\d+)(?:;u=(request|cents))?(?:;s=([\w-]+))?$", re.IGNORECASE)
MIN_WINDOW, MAX_WINDOW = 60, 31_536_000
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")

Mode = Literal["take", "check", "charge"]

RATE_LIMITED_MESSAGE = (
    "Helicone user was rate limit via Helicone-RateLimit-Policy header. Please wait before "
    "making more requests. See https://docs.helicone.ai/features/advanced-usage/custom-rate-limits"
    " for more details."
)


@dataclass(frozen=True, slots=True)
class RatePolicy:
    """A parsed policy: ``quota`` per ``window`` seconds of ``unit``, per ``segment``."""

    quota: int
    window: int
    unit: str  # "request" or "cents"
    segment: str | None  # None: the whole organization; "user"; or a property name

    @property
    def normalized(self) -> str:
        """The policy as echoed in headers: defaults left out, as Helicone does."""
        text = f"{self.quota};w={self.window}"
        if self.unit != "request":
            text += f";u={self.unit}"
        if self.segment is not None:
            text += f";s={self.segment}"
        return text

    def bucket_key(self, org_id: str, user_id: str | None, properties: dict[str, str]) -> str:
        """The bucket this call draws from; ``BadRequest`` when its segment value is missing."""
        if self.segment is None:
            return f"tb:{org_id}:global::{self.unit}"
        if self.segment.lower() == "user":
            if not user_id:
                raise BadRequest(
                    "Helicone-RateLimit-Policy segments by user (s=user) but the request has no "
                    "Helicone-User-Id header"
                )
            return f"tb:{org_id}:user:{_clean(user_id)}:{self.unit}"
        wanted = self.segment.lower()
        value = next((v for k, v in properties.items() if k.lower() == wanted), None)
        if value is None:
            raise BadRequest(
                f"Helicone-RateLimit-Policy segments by property {self.segment!r} but the request "
                f"has no Helicone-Property-{self.segment} header"
            )
        return f"tb:{org_id}:prop:{_clean(wanted)}:{_clean(value)}:{self.unit}"


def _clean(value: str) -> str:
    return _UNSAFE.sub("", value.replace(":", "_"))[:256]


def parse_policy(text: str) -> RatePolicy:
    """Parse a ``Helicone-RateLimit-Policy`` value; ``BadRequest`` names what is wrong."""
    match = _POLICY.match(text.strip())
    if match is None:
        raise BadRequest(
            f"Invalid Helicone-RateLimit-Policy {text!r}: expected "
            "'[quota];w=[seconds];u=[request|cents];s=[user|<property>]', e.g. '100;w=60;s=user'"
        )
    quota, window = int(match.group(1)), int(match.group(2))
    if quota <= 0:
        raise BadRequest("Invalid Helicone-RateLimit-Policy: the quota must be greater than 0")
    if not MIN_WINDOW <= window <= MAX_WINDOW:
        raise BadRequest(
            f"Invalid Helicone-RateLimit-Policy: the window must be between {MIN_WINDOW} and "
            f"{MAX_WINDOW} seconds, got {window}"
        )
    unit = (match.group(3) or "request").lower()
    return RatePolicy(quota, window, unit, match.group(4))


@dataclass(frozen=True, slots=True)
class BucketState:
    """What a bucket said: whether the call may go, and what is left."""

    allowed: bool
    tokens: float
    capacity: int
    window: int

    @property
    def remaining(self) -> int:
        """Whole tokens left (never negative)."""
        return math.floor(max(0.0, self.tokens))

    @property
    def reset(self) -> int:
        """Seconds until the bucket is full again."""
        rate = self.capacity / self.window
        return math.ceil(max(0.0, self.capacity - self.tokens) / rate)


def refill(tokens: float, elapsed: float, capacity: int, window: int) -> float:
    """Tokens after ``elapsed`` seconds of lazy refill, clamped to the (maybe new) capacity."""
    return min(float(capacity), tokens + max(0.0, elapsed) * capacity / window)


def apply(tokens: float, mode: Mode, amount: float) -> tuple[bool, float]:
    """One step on a refilled bucket: ``take`` 1 request, ``check`` > 0, or ``charge`` cents."""
    if mode == "take":
        return (True, tokens - amount) if tokens >= amount else (False, tokens)
    if mode == "check":
        return tokens > 0, tokens
    return True, tokens - amount  # a charge after the call may drive the bucket negative


class Buckets(Protocol):
    """Where buckets live: this process, or Redis when replicas share them."""

    async def step(
        self, key: str, capacity: int, window: int, mode: Mode, amount: float
    ) -> tuple[bool, float]:
        """Refill the bucket, apply ``mode`` atomically; returns (allowed, tokens left)."""
        ...


class MemoryBuckets:
    """Buckets in this process, for a single server (one event loop makes each step atomic)."""

    def __init__(self, max_buckets: int = 100_000) -> None:
        # key -> (tokens, last step, capacity, window)
        self._state: dict[str, tuple[float, float, int, int]] = {}
        self._max = max_buckets

    async def step(
        self, key: str, capacity: int, window: int, mode: Mode, amount: float
    ) -> tuple[bool, float]:
        """Refill and apply one step; no await inside, so no other call interleaves."""
        now = time.monotonic()
        tokens, last, _, _ = self._state.get(key, (float(capacity), now, capacity, window))
        allowed, tokens = apply(refill(tokens, now - last, capacity, window), mode, amount)
        if key not in self._state and len(self._state) >= self._max:
            self._forget_full(now)
        self._state[key] = (tokens, now, capacity, window)
        return allowed, tokens

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: a full bucket is the same as one never used."""
        for key, (tokens, last, capacity, window) in list(self._state.items()):
            if refill(tokens, now - last, capacity, window) >= capacity:
                del self._state[key]
