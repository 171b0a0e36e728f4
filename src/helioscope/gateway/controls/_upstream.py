"""Retries and fallbacks: how a controlled call reaches its upstream.

Retries follow async-retry's exponential backoff (Helicone's library) on 429, 5xx and network
errors, and honour ``Retry-After``: the gateway waits as long as the provider asks, and returns
the provider's answer as is when it asks for longer than ``helicone-retry-max-timeout``.
Fallbacks try each entry in order and move on when the status is in the entry's ``onCodes``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
from dataclasses import dataclass, field
from typing import Any

import orjson

from helioscope.gateway.controls._fallbacks import Fallback, merge_override
from helioscope.gateway.controls._options import RetrySettings
from helioscope.gateway.upstream import UpstreamClient, UpstreamError, UpstreamResponse

_NETWORK_ERRORS = (UpstreamError, OSError, TimeoutError)


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds from now (it may be a number or an HTTP date)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


@dataclass(slots=True)
class Attempt:
    """One upstream request to make."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(slots=True)
class Outcome:
    """What the controlled request ended with: the response, where it came from, and how."""

    response: UpstreamResponse
    url: str
    fallback_index: int | None = None
    retries: int = 0
    notes: list[str] = field(default_factory=list)


async def send_with_retries(
    upstream: UpstreamClient, attempt: Attempt, retry: RetrySettings | None
) -> tuple[UpstreamResponse, int]:
    """The upstream response after retries (and how many were made); network errors re-raise."""
    tries = 0
    while True:
        try:
            response = await upstream.request(
                attempt.method, attempt.url, attempt.headers, attempt.body or None
            )
        except _NETWORK_ERRORS:
            if retry is None or tries >= retry.retries:
                raise
            await asyncio.sleep(retry.delay(tries))
            tries += 1
            continue
        if retry is None or tries >= retry.retries or not _retryable(response.status):
            return response, tries
        wait = retry_after_seconds(response.header("retry-after"))
        if wait is not None and wait * 1000 > retry.max_timeout_ms:
            return response, tries  # the provider asks for longer than the caller allows
        response.release()
        await asyncio.sleep(wait if wait is not None else retry.delay(tries))
        tries += 1


def _fallback_attempt(base: Attempt, entry: Fallback, tail: str) -> Attempt:
    overrides = {k.lower(): v for k, v in entry.headers.items()}
    headers = [(k, v) for k, v in base.headers if k.lower() not in overrides]
    headers += list(overrides.items())
    body = base.body
    if entry.body_override is not None and body:
        try:
            body = orjson.dumps(merge_override(orjson.loads(body), entry.body_override))
        except orjson.JSONDecodeError:
            pass  # a non-JSON body cannot take key overrides; send it as is
    return Attempt(base.method, entry.target_url + tail, headers, body)


async def open_controlled(
    upstream: UpstreamClient,
    base: Attempt,
    tail: str,
    retry: RetrySettings | None,
    fallbacks: list[Fallback] | None,
) -> Outcome:
    """Send ``base`` (or, with fallbacks, each entry in turn) with retries."""
    if not fallbacks:
        response, tries = await send_with_retries(upstream, base, retry)
        return Outcome(response, base.url, retries=tries)
    last = len(fallbacks) - 1
    for index, entry in enumerate(fallbacks):
        attempt = _fallback_attempt(base, entry, tail)
        try:
            response, tries = await send_with_retries(upstream, attempt, retry)
        except _NETWORK_ERRORS:
            if index == last:
                raise
            continue
        if index < last and entry.moves_on(response.status):
            response.release()
            continue
        return Outcome(response, attempt.url, fallback_index=index, retries=tries)
    raise AssertionError("unreachable: the last fallback always returns or raises")


def response_headers(response: UpstreamResponse, drop: Any) -> list[tuple[str, str]]:
    """The upstream headers as relayed to the client (connection-level ones dropped)."""
    return [
        (k.decode("latin-1").lower(), v.decode("latin-1"))
        for k, v in response.raw_headers
        if k.lower() not in drop
    ]
