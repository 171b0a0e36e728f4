"""Webhooks: each logged call POSTed, signed, to the organization's destinations.

The log writer hands every written batch to ``WebhookDispatcher.offer``, which only puts it on a
bounded queue: matching, building bodies and delivering happen in background tasks, so a slow
or failing destination never slows logging. Deliveries are retried with exponential backoff.
The body is signed with ``Helicone-Signature``: the hex HMAC-SHA256 of the exact body bytes,
keyed with the webhook's ``hmac_key``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import ipaddress
import logging
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson

from helioscope._guard import InternalErrorGuard
from helioscope.egress import EgressPolicy, PolicyResolver, RefusedTarget
from helioscope.errors import BadRequest
from helioscope.store import NANO_USD, LogRow, Store, notifications

logger = logging.getLogger("helioscope.webhooks")

MAX_BODY_CHARS = 10_000  # Helicone replaces larger bodies with a note
_REFRESH_SECONDS = 5.0


def check_destination(url: str, allow_http_loopback: bool) -> str:
    """The destination if it may receive webhooks, else ``BadRequest`` naming ``destination``.

    Only ``https://`` is allowed, and plain ``http://`` to a loopback host when the server's
    settings allow it (for tests and local receivers).
    """
    parts = urlsplit(url.strip())
    if parts.scheme == "https" and parts.hostname:
        return url.strip()
    if parts.scheme == "http" and parts.hostname:
        if not allow_http_loopback:
            raise BadRequest("destination: must be an https:// URL")
        if not _is_loopback(parts.hostname):
            raise BadRequest("destination: plain http:// is only allowed to a loopback host")
        return url.strip()
    raise BadRequest(f"destination: must be an https:// URL, got {url!r:.100}")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def sign(body: bytes, key: str) -> str:
    """``Helicone-Signature``: hex HMAC-SHA256 of the exact body bytes."""
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def matches(config: dict[str, Any], row: LogRow, draw: float) -> bool:
    """Whether a row goes to a webhook: its sample rate (0-100) and every property filter."""
    rate = config.get("sampleRate", 100)
    if isinstance(rate, (int, float)) and draw * 100 >= rate:
        return False
    for item in config.get("propertyFilters") or []:
        if row.properties.get(str(item.get("key"))) != item.get("value"):
            return False
    return True


def _body_value(text: str | None) -> Any:
    if text is None:
        return None
    if len(text) > MAX_BODY_CHARS:
        return _too_large(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _too_large(text: str) -> str:
    return f"Body too large ({len(text)} characters); fetch it with GET /v1/request/{{id}}"


def _without_large_bodies(row: LogRow) -> LogRow:
    """``row``, or a copy whose bodies past ``MAX_BODY_CHARS`` are the note sent instead."""
    request, response = row.request_body, row.response_body
    if (request is None or len(request) <= MAX_BODY_CHARS) and (
        response is None or len(response) <= MAX_BODY_CHARS
    ):
        return row
    return dataclasses.replace(
        row,
        request_body=_too_large(request) if request and len(request) > MAX_BODY_CHARS else request,
        response_body=(
            _too_large(response) if response and len(response) > MAX_BODY_CHARS else response
        ),
    )


def payload(row: LogRow, include_data: bool) -> dict[str, Any]:
    """The body Helicone's webhooks send for one logged call."""
    body: dict[str, Any] = {
        "request_id": row.request_id,
        "request_body": _body_value(row.request_body),
        "response_body": _body_value(row.response_body),
    }
    if include_data:
        prompt, completion = row.prompt_tokens or 0, row.completion_tokens or 0
        body.update(
            model=row.model,
            provider=row.provider,
            user_id=row.user_id,
            properties=row.properties,
            status=row.status,
            metadata={
                "cost": None if row.cost is None else row.cost / NANO_USD,
                "promptTokens": prompt,
                "completionTokens": completion,
                "totalTokens": prompt + completion,
                "latencyMs": row.latency,
            },
        )
    return body


class WebhookDispatcher:
    """Delivers logged calls (and alerts) to webhooks; use as ``async with``."""

    def __init__(
        self,
        store: Store,
        guard: InternalErrorGuard,
        *,
        allow_http_loopback: bool = False,
        egress: EgressPolicy | None = None,
        max_attempts: int = 5,
        retry_seconds: float = 1.0,
        timeout_seconds: float = 120.0,
        queue_size: int = 10_000,
        concurrency: int = 32,
        drain_seconds: float = 5.0,
    ) -> None:
        self.store = store
        self.guard = guard
        self.allow_http_loopback = allow_http_loopback
        self.egress = egress or EgressPolicy()
        self.max_attempts = max_attempts
        self.retry_seconds = retry_seconds
        self.timeout_seconds = timeout_seconds
        self.drain_seconds = drain_seconds
        self._queue: asyncio.Queue[list[LogRow]] = asyncio.Queue(maxsize=queue_size)
        self._slots = asyncio.Semaphore(concurrency)
        self._hooks: dict[str, list[dict[str, Any]]] = {}
        self._loaded_at = -1e9
        self._generation = 0  # bumped by forget(): a read begun before it is stale on arrival
        # Tells the other workers: the one whose writer stores the rows is the one that sends
        # them, and it must see a webhook created or deleted through any of them.
        self.on_change: Callable[[], None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.delivered = 0
        self.failed = 0

    async def __aenter__(self) -> WebhookDispatcher:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout_seconds),
            # Names resolve to the addresses the egress policy allows, and connect to those.
            connector=aiohttp.TCPConnector(resolver=PolicyResolver(self.egress)),
        )
        self._runner = asyncio.get_running_loop().create_task(self._run())
        return self

    async def __aexit__(self, *_: object) -> None:
        # Shutdown: give queued calls and deliveries in flight a moment, then stop.
        try:
            await asyncio.wait_for(self.idle(), self.drain_seconds)
        except TimeoutError:
            logger.warning("webhooks: shutting down with deliveries still pending")
        if self._runner is not None:
            self._runner.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def vet(self, url: str) -> None:
        """Refuse a destination that resolves to an address the egress policy refuses.

        ``RefusedTarget`` is a 403 naming the address. A name that does not resolve now passes:
        it is checked again at each delivery.
        """
        try:
            await self.egress.check_url(url)
        except OSError:
            pass

    def offer(self, rows: list[LogRow]) -> None:
        """Queue written rows for the webhooks; never blocks (a full queue drops them, logged).

        Only what a webhook can send is kept: rows of organizations without webhooks are left
        out while the list of webhooks is fresh, and a body past ``MAX_BODY_CHARS`` (sent as a
        note) is not held (issue 19: the queue kept whole batches of 200 KB bodies alive).
        """
        if time.monotonic() - self._loaded_at <= _REFRESH_SECONDS:
            rows = [row for row in rows if row.organization_id in self._hooks]
            if not rows:
                return
        rows = [_without_large_bodies(row) for row in rows]
        try:
            self._queue.put_nowait(rows)
        except asyncio.QueueFull:
            logger.warning("webhook queue full: %d calls not sent to webhooks", len(rows))

    def invalidate(self) -> None:
        """Re-read the webhooks before the next batch (after one is created or deleted).

        Here and, through ``on_change`` (the change feed), in the worker that runs the writer.
        """
        self.forget()
        if self.on_change is not None:
            self.on_change()

    def forget(self) -> None:
        """Re-read the webhooks before the next batch (another worker changed them)."""
        self._loaded_at = -1e9
        self._generation += 1

    async def idle(self) -> None:
        """Wait until every queued batch is matched and every delivery has finished."""
        await self._queue.join()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _webhooks(self) -> dict[str, list[dict[str, Any]]]:
        if time.monotonic() - self._loaded_at > _REFRESH_SECONDS:
            generation = self._generation
            by_org: dict[str, list[dict[str, Any]]] = {}
            for hook in await self.store.read(notifications.all_webhooks):
                by_org.setdefault(hook["organization_id"], []).append(hook)
            self._hooks = by_org
            # A webhook created while this read ran may be missing from it: then the next batch
            # reads again, instead of trusting this answer for the refresh interval.
            if generation == self._generation:
                self._loaded_at = time.monotonic()
        return self._hooks

    async def _run(self) -> None:
        while True:
            rows = await self._queue.get()
            try:
                # In production the guard reports a bug and the dispatcher keeps going.
                with self.guard.internal_errors("matching calls to webhooks"):
                    await self._dispatch(rows)
            finally:
                self._queue.task_done()

    async def _dispatch(self, rows: list[LogRow]) -> None:
        if not rows:
            return
        try:
            hooks = await self._webhooks()
        except Exception as exc:  # the store is down: these calls are not sent
            logger.warning("could not read webhooks: %r", exc)
            return
        for row in rows:
            for hook in hooks.get(row.organization_id, []):
                config = hook["config"] or {}
                if matches(config, row, random.random()):
                    body = payload(row, config.get("includeData", True) is not False)
                    self.send(hook, body)

    def send(self, hook: dict[str, Any], body: dict[str, Any]) -> None:
        """Deliver a body to one webhook in the background, with retries."""
        data = orjson.dumps(body)
        task = asyncio.get_running_loop().create_task(self._deliver(hook, data))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def post(self, label: str, destination: str, body: dict[str, Any]) -> None:
        """Deliver a body, unsigned, to a destination that is not a webhook (Slack's).

        The same path as webhooks: the same checks, retries, limits and shutdown drain.
        """
        self.send({"id": label, "destination": destination, "hmac_key": None}, body)

    async def _deliver(self, hook: dict[str, Any], data: bytes) -> None:
        headers = {"content-type": "application/json"}
        if hook["hmac_key"] is not None:
            headers["Helicone-Signature"] = sign(data, hook["hmac_key"])
        delay = self.retry_seconds
        async with self._slots:
            for attempt in range(1, self.max_attempts + 1):
                outcome = await self._post(hook, data, headers)
                if outcome == "ok":
                    self.delivered += 1
                    return
                if outcome == "final" or attempt == self.max_attempts:
                    break
                await asyncio.sleep(delay)
                delay = min(delay * 2, 300.0)
        self.failed += 1
        logger.warning("webhook %s: gave up delivering to %s", hook["id"], hook["destination"])

    async def _post(self, hook: dict[str, Any], data: bytes, headers: dict[str, str]) -> str:
        """``ok``, ``retry`` (network error, 429 or 5xx) or ``final`` (any other status)."""
        assert self._session is not None
        try:
            url = check_destination(hook["destination"], self.allow_http_loopback)
            await self.egress.check_url(url)  # IP literals skip aiohttp's resolver
            async with self._session.post(url, data=data, headers=headers) as response:
                await response.read()
                if response.status < 300:
                    return "ok"
                return "retry" if response.status == 429 or response.status >= 500 else "final"
        except (BadRequest, RefusedTarget) as exc:
            logger.warning("webhook %s: %s", hook["id"], exc.message)
            return "final"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            logger.info("webhook %s: delivery failed (%r), will retry", hook["id"], exc)
            return "retry"
