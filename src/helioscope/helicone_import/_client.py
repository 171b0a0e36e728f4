"""Helicone's REST API as a client sees it: the envelope, signed body URLs, and polite retries.

Helicone answers 429 when a key goes over its rate limit, with ``Retry-After`` in seconds or as
an HTTP date. The client waits that long (or backs off exponentially with jitter when the header
is absent), and does the same for 5xx answers and dropped connections, up to ``max_attempts``.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import gzip
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson

_RETRIED = frozenset({408, 429, 500, 502, 503, 504})


class SourceError(Exception):
    """The source refused a request or kept failing; the message says which and why."""


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds to wait: a number, or an HTTP date; None when unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _decode_document(raw: bytes) -> Any:
    # Helicone keeps bodies as gzip-compressed JSON; a store may serve them without saying so.
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return orjson.loads(raw)


class HeliconeClient:
    """Calls one Helicone-compatible API with one key; counts the 429s it waited out."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        api_key: str,
        *,
        max_attempts: int = 8,
        first_delay: float = 1.0,
        max_delay: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        retrying: Callable[[str], None] = lambda message: None,
    ) -> None:
        self._session = session
        self.base_url = base_url.rstrip("/")
        self._auth = {"authorization": f"Bearer {api_key}"}
        self.max_attempts = max_attempts
        self.first_delay = first_delay
        self.max_delay = max_delay
        self._sleep = sleep
        # Told of each retry but a 429's (those are expected, and counted): the backoff of a
        # source that refuses connections adds up to two minutes, which passed without a word.
        self._retrying = retrying
        self.throttled = 0  # 429 answers waited out

    async def post(self, path: str, body: Any) -> Any:
        """POST a JSON body to an API route; its ``data``."""
        return await self._api("POST", path, body)

    async def get(self, path: str) -> Any:
        """GET an API route; its ``data``."""
        return await self._api("GET", path, None)

    async def document(self, url: str) -> Any:
        """The JSON document at a signed URL (no API key goes there), or at a ``data:`` URL."""
        shown = url[:40] + "…" if url.startswith("data:") else url.split("?")[0]
        if url.startswith("data:"):
            _, _, encoded = url.partition(",")
            raw = base64.b64decode(encoded)
        else:
            status, raw = await self._send("GET", url, None, {})
            if status != 200:
                raise SourceError(f"GET {shown}: HTTP {status}")
        try:
            return _decode_document(raw)
        except (ValueError, OSError) as exc:  # not JSON, or a broken gzip stream
            raise SourceError(f"{shown}: not a JSON document ({exc})") from exc

    async def _api(self, method: str, path: str, body: Any) -> Any:
        status, raw = await self._send(method, self.base_url + path, body, self._auth)
        try:
            envelope = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            envelope = None
        if status == 401:
            raise SourceError(f"{method} {path}: the source refused the API key (HTTP 401)")
        if not isinstance(envelope, dict) or status >= 400 or envelope.get("error"):
            detail = envelope.get("error") if isinstance(envelope, dict) else raw[:200]
            raise SourceError(f"{method} {path}: HTTP {status}: {detail!r}")
        return envelope.get("data")

    def _backoff(self, attempt: int) -> float:
        delay: float = min(self.max_delay, self.first_delay * 2**attempt)
        return delay * (0.5 + random.random() / 2)  # jitter: retries of many clients spread

    async def _send(
        self, method: str, url: str, body: Any, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        data = None if body is None else orjson.dumps(body)
        if data is not None:
            headers = {**headers, "content-type": "application/json"}
        for attempt in range(self.max_attempts):
            last = attempt == self.max_attempts - 1
            try:
                async with self._session.request(method, url, data=data, headers=headers) as resp:
                    raw = await resp.read()
                    if resp.status not in _RETRIED or last:
                        return resp.status, raw
                    wait = retry_after_seconds(resp.headers.get("retry-after"))
                    failure = None if resp.status == 429 else f"HTTP {resp.status}"
                    if resp.status == 429:
                        self.throttled += 1
            except (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
                failure = f"{type(exc).__name__}: {exc}"
                if last:
                    raise SourceError(f"{method} {url.split('?')[0]}: {failure}") from exc
                wait = None
            delay = min(self.max_delay, wait) if wait is not None else self._backoff(attempt)
            if failure is not None:
                self._retrying(
                    f"{method} {url.split('?')[0]}: {failure}; trying again in {delay:.0f} s "
                    f"(attempt {attempt + 2} of {self.max_attempts})"
                )
            await self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")
