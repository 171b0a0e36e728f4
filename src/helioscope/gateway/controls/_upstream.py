"""Retries and fallbacks: how a call reaches its upstream through its attempts.

Retries follow async-retry's exponential backoff (Helicone's library) on 429, 5xx and network
errors, and honour ``Retry-After``: the gateway waits as long as the provider asks, and returns
the provider's answer as is when it asks for longer than ``helicone-retry-max-timeout``.
Attempts are tried in order: ``Helicone-Fallbacks`` entries move on when the status is in the
entry's ``onCodes``; an AI Gateway model chain moves on at 429, 5xx and network errors.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
from dataclasses import replace
from typing import NamedTuple

import orjson

from helioscope.gateway._call import Attempt, retryable
from helioscope.gateway.controls._fallbacks import Fallback, merge_override
from helioscope.gateway.controls._options import RetrySettings
from helioscope.gateway.upstream import (
    Header,
    UpstreamClient,
    UpstreamError,
    UpstreamResponse,
    header_name,
)

_NETWORK_ERRORS = (UpstreamError, OSError, TimeoutError)


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


class Opened(NamedTuple):
    """The upstream response a call goes on with, the attempt that gave it, and how."""

    response: UpstreamResponse
    attempt: Attempt
    position: int  # of the attempt in the plan
    retries: int = 0


async def send_with_retries(
    upstream: UpstreamClient, attempt: Attempt, retry: RetrySettings | None
) -> tuple[UpstreamResponse, int]:
    """The upstream response after retries (and how many were made); network errors re-raise."""
    tries = 0
    while True:
        try:
            response = await upstream.request(
                attempt.method,
                attempt.url,
                attempt.headers,
                attempt.body or None,
                vetted=attempt.vetted,
            )
        except _NETWORK_ERRORS:
            if retry is None or tries >= retry.retries:
                raise
            await asyncio.sleep(retry.delay(tries))
            tries += 1
            continue
        if retry is None or tries >= retry.retries or not retryable(response.status):
            return response, tries
        wait = retry_after_seconds(response.header("retry-after"))
        if wait is not None and wait * 1000 > retry.max_timeout_ms:
            return response, tries  # the provider asks for longer than the caller allows
        response.release()
        await asyncio.sleep(wait if wait is not None else retry.delay(tries))
        tries += 1


def fallback_attempts(base: Attempt, entries: list[Fallback], tail: str) -> list[Attempt]:
    """One attempt per ``Helicone-Fallbacks`` entry: its URL, headers and body overrides.

    (An entry's headers are the caller's JSON text: checked when the request is written.)
    """
    attempts = []
    for entry in entries:
        overrides = {k.lower(): v for k, v in entry.headers.items()}
        headers: list[Header] = [h for h in base.headers if header_name(h) not in overrides]
        headers += overrides.items()
        body, parsed = base.body, base.request_json
        if entry.body_override is not None and body:
            try:
                parsed = merge_override(orjson.loads(body), entry.body_override)
                body = orjson.dumps(parsed)
            except orjson.JSONDecodeError:
                pass  # a non-JSON body cannot take key overrides; send it as is
        attempts.append(
            replace(
                base,
                url=entry.target_url + tail,
                headers=headers,
                body=body,
                request_json=parsed,
                moves_on=entry.moves_on,
                vetted=False,  # the caller's URL: the egress policy checks it
            )
        )
    return attempts


async def open_attempts(
    upstream: UpstreamClient, attempts: list[Attempt], retry: RetrySettings | None
) -> Opened:
    """Send each attempt in turn (with retries) until one answers with a status it keeps.

    An attempt whose status it ``moves_on`` from, or that cannot reach its upstream, gives way
    to the next; the last one answers whatever it gets, and its network errors are raised.
    """
    last = len(attempts) - 1
    for index, attempt in enumerate(attempts):
        try:
            response, tries = await send_with_retries(upstream, attempt, retry)
        except _NETWORK_ERRORS:
            if index == last:
                raise
            continue
        if index < last and attempt.moves_on(response.status):
            response.release()
            continue
        return Opened(response, attempt, index, tries)
    raise AssertionError("unreachable: the last attempt always returns or raises")
