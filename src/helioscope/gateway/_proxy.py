"""The proxy: one raw ASGI app per route prefix, relaying calls and capturing them for the log.

The hot path per call: one pass over the headers, one cached key lookup, the upstream request,
and a relay loop that forwards each upstream chunk to the client as-is (no copy, no re-encoding)
while keeping a reference to it for the log. Parsing and pricing happen later, in the writer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from helioscope._asgi import Message, Receive, Scope, Send, http_date, read_body, send_error
from helioscope.auth import WRITE, KeyCache, split_authorization
from helioscope.errors import BadRequest, HelioscopeError
from helioscope.gateway._prompts import PromptApplier
from helioscope.gateway.controls import (
    CONTROL_PREFIXES_RAW,
    ControlledCall,
    Forwarder,
    GatewayControls,
    Opener,
    parse_controls,
)
from helioscope.gateway.upstream import UpstreamClient, UpstreamError, UpstreamResponse
from helioscope.ingest import (
    STATUS_CLIENT_CANCELLED,
    STATUS_TIMEOUT,
    CallCapture,
    HeliconeHeaders,
    LogWriter,
    new_request_id,
)
from helioscope.providers import ProviderFormat, provider_for_target

# Never forwarded upstream: connection-level headers, and those the HTTP client sets itself.
_DROP_REQUEST = frozenset(
    {
        b"host",
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"te",
        b"trailer",
        b"upgrade",
        b"content-length",
        b"proxy-authorization",
    }
)
_DROP_RESPONSE = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"trailer",
        b"upgrade",
    }
)


@dataclass(frozen=True, slots=True)
class Route:
    """How a path prefix maps to an upstream."""

    prefix: str  # "/oai", "/openai", "/anthropic", "/gateway"
    provider: ProviderFormat | None  # None: inferred from Helicone-Target-URL
    base_url: str | None  # None: taken from Helicone-Target-URL


@dataclass(slots=True)
class _Incoming:
    """The parts of the client's request the proxy needs, read in one pass over the headers."""

    forward: list[tuple[str, str]]
    helicone: list[tuple[str, str]]
    helicone_auth: str | None = None
    authorization: str | None = None
    target_url: str | None = None
    has_controls: bool = False  # a gateway-control header is present (cache, rate limit, ...)


def _read_headers(raw: list[tuple[bytes, bytes]]) -> _Incoming:
    incoming = _Incoming(forward=[], helicone=[])
    for name, value in raw:
        if name.startswith(b"helicone-"):
            pair = (name.decode("latin-1"), value.decode("latin-1"))
            incoming.helicone.append(pair)
            if name == b"helicone-auth":
                incoming.helicone_auth = pair[1]
            elif name == b"helicone-target-url":
                incoming.target_url = pair[1]
            elif name.startswith(CONTROL_PREFIXES_RAW):
                incoming.has_controls = True
        elif name == b"authorization":
            incoming.authorization = value.decode("latin-1")
        elif name not in _DROP_REQUEST:
            incoming.forward.append((name.decode("latin-1"), value.decode("latin-1")))
    return incoming


def _origin(target_url: str | None) -> str:
    if not target_url:
        raise BadRequest("Helicone-Target-URL header is required on the /gateway route")
    parts = urlsplit(target_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequest(f"Helicone-Target-URL must be an http(s) origin, got {target_url!r}")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _inject_stream_usage(body: bytes) -> tuple[bytes, Any]:
    """Add ``stream_options.include_usage`` to a streaming JSON body (Helicone-Stream-Usage)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body, None
    if isinstance(data, dict) and data.get("stream") is True:
        options = data.get("stream_options")
        data["stream_options"] = {
            **(options if isinstance(options, dict) else {}),
            "include_usage": True,
        }
        return orjson.dumps(data), data
    return body, data


class Gateway:
    """Relays calls to providers and hands a capture of each to the log writer."""

    def __init__(
        self,
        *,
        keys: KeyCache,
        writer: LogWriter,
        upstream: UpstreamClient,
        max_body_bytes: int,
        prompts: PromptApplier | None = None,
        controls: GatewayControls | None = None,
    ) -> None:
        self.controls = controls
        self.keys = keys
        self.writer = writer
        self.upstream = upstream
        self.max_body_bytes = max_body_bytes
        self.prompts = prompts

    async def handle(self, route: Route, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one call end to end; errors before the upstream call become envelopes."""
        started_at = dt.datetime.now(dt.UTC)
        started = time.perf_counter()
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        subpath = raw_path[len(route.prefix) :].decode("latin-1") or "/"
        try:
            incoming = _read_headers(scope["headers"])
            helicone_key, authorization = split_authorization(
                incoming.helicone_auth, incoming.authorization
            )
            api_key = await self.keys.resolve(helicone_key, WRITE)
            base = route.base_url or _origin(incoming.target_url)
            provider = route.provider or provider_for_target(base)
            body = await read_body(receive, self.max_body_bytes)
            controls = (
                parse_controls(incoming.helicone, incoming.forward, incoming.authorization)
                if incoming.has_controls
                else None
            )
        except HelioscopeError as exc:
            await send_error(send, exc.status, exc.message)
            return
        if authorization is not None:
            incoming.forward.append(("authorization", authorization))
        helicone = HeliconeHeaders.parse(incoming.helicone)
        request_json = None
        if self.prompts is not None:
            try:
                body, request_json = await self.prompts.apply(
                    api_key.organization_id, helicone, body, provider
                )
            except HelioscopeError as exc:
                await send_error(send, exc.status, exc.message)
                return
        if helicone.stream_usage and body:
            body, request_json = _inject_stream_usage(body)
        query = scope.get("query_string") or b""
        url = base + subpath + ("?" + query.decode("latin-1") if query else "")
        capture = CallCapture(
            request_id=helicone.request_id or new_request_id(),
            organization_id=api_key.organization_id,
            api_key_id=api_key.id,
            provider=provider,
            target_url=url,
            path=subpath,
            helicone=helicone,
            request_body=body,
            request_json=request_json,
            started_at=started_at,
            started=started,
        )
        try:
            if controls is None or self.controls is None:
                await self._forward(scope["method"], url, incoming.forward, capture, receive, send)
            else:
                tail = url[len(base) :]
                call = ControlledCall(scope["method"], url, base, tail, incoming.forward, capture)
                await self.controls.run(
                    controls, call, self._forward_controlled(call), receive, send
                )
        finally:
            capture.ended = capture.ended or time.perf_counter()
            self.writer.enqueue(capture)

    def _forward_controlled(self, call: ControlledCall) -> Forwarder:
        async def forward(
            headers: list[tuple[str, str]],
            capture: CallCapture,
            receive: Receive,
            send: Send,
            opener: Opener,
            extra: list[tuple[bytes, bytes]],
        ) -> None:
            await self._forward(
                call.method, call.url, headers, capture, receive, send, opener, extra
            )

        return forward

    async def _forward(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        capture: CallCapture,
        receive: Receive,
        send: Send,
        opener: Opener | None = None,
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        # Gateway controls pass an ``opener`` (retries, fallbacks) and ``extra`` response headers.
        if extra is None:
            extra = [(b"helicone-id", capture.request_id.encode())]
        try:
            if opener is None:
                response = await self.upstream.request(
                    method, url, headers, capture.request_body or None
                )
            else:
                response = await opener()
        except TimeoutError:
            capture.status, capture.error = STATUS_TIMEOUT, "upstream timed out"
            await send_error(send, 504, f"upstream {url} timed out", extra)
            return
        except (UpstreamError, OSError) as exc:
            capture.status = 502
            capture.error = f"could not reach upstream {url}: {exc}"
            await send_error(send, 502, capture.error, extra)
            return
        try:
            await self._relay(response, capture, receive, send, extra)
        finally:
            response.release()

    async def _relay(
        self,
        response: UpstreamResponse,
        capture: CallCapture,
        receive: Receive,
        send: Send,
        extra: list[tuple[bytes, bytes]],
    ) -> None:
        capture.status = response.status
        headers = [(k, v) for k, v in response.raw_headers if k not in _DROP_RESPONSE]
        if response.header("date") is None:  # a forwarded response carries one (RFC 9110)
            headers.append((b"date", http_date()))
        headers.extend(extra)
        capture.content_encoding = response.header("content-encoding")
        capture.is_stream = response.content_type == "text/event-stream"
        if not capture.is_stream and response.content_length is not None:
            await _relay_whole(response, capture, send, headers)
            return
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        # Only a stream can outlive its client for long; a JSON body is relayed in one go and
        # needs no watcher task (uvicorn drops writes to a closed connection).
        watcher = _DisconnectWatcher(receive) if capture.is_stream else None
        try:
            while (chunk := await response.next_chunk()) is not None:
                if capture.first_chunk is None:
                    capture.first_chunk = time.perf_counter()
                capture.chunks.append(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            capture.ended = time.perf_counter()
            if watcher is not None:
                watcher.finished = True
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if watcher is None or not watcher.client_gone:
                raise
            watcher.absorb_cancel()
            capture.ended = time.perf_counter()
            capture.completed, capture.status = False, STATUS_CLIENT_CANCELLED
        except (TimeoutError, UpstreamError) as exc:
            _broke_off(capture, exc)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            if watcher is not None:
                watcher.stop()


def _broke_off(capture: CallCapture, exc: Exception) -> None:
    """Record an upstream response that ended early (a timeout logs Helicone's -2)."""
    capture.ended = time.perf_counter()
    capture.completed = False
    capture.error = f"upstream response broke off: {exc!r}"
    if isinstance(exc, TimeoutError):
        capture.status = STATUS_TIMEOUT


async def _relay_whole(
    response: UpstreamResponse,
    capture: CallCapture,
    send: Send,
    headers: list[tuple[bytes, bytes]],
) -> None:
    """Relay a body of known length that is not a stream in one message.

    One write to the client instead of one per network read, and no extra loop turns: this is
    most calls, and a measurable share of the gateway's added latency.
    """
    try:
        body = await response.read()
    except (TimeoutError, UpstreamError) as exc:
        _broke_off(capture, exc)
        await send_error(send, 502, f"upstream response broke off: {exc!r}")
        return
    capture.first_chunk = capture.ended = time.perf_counter()
    capture.chunks.append(body)
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


class _DisconnectWatcher:
    """Cancels the relaying task when the client goes away, so the relay can log status -3.

    (uvicorn silently drops writes to a closed connection, so only ``receive`` tells.)
    """

    def __init__(self, receive: Receive) -> None:
        self.client_gone = False
        self.finished = False
        self._relay_task = asyncio.current_task()
        self._task = asyncio.get_running_loop().create_task(self._watch(receive))

    async def _watch(self, receive: Receive) -> None:
        message: Message = await receive()
        while message["type"] != "http.disconnect":
            message = await receive()
        if not self.finished and self._relay_task is not None:
            self.client_gone = True
            self._relay_task.cancel()

    def absorb_cancel(self) -> None:
        """Consume our own cancellation so the task can carry on to logging."""
        if self._relay_task is not None:
            self._relay_task.uncancel()

    def stop(self) -> None:
        """Stop watching (the response is complete or abandoned)."""
        self._task.cancel()
