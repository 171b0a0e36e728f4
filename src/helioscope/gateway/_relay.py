"""The relay: an upstream response to the client, as it arrives, and into the call's capture.

As is, each upstream chunk is forwarded untouched (no copy, no re-encoding) and kept by
reference for the log. Mapped (the AI Gateway, when the provider speaks another format than
the client), a JSON body is mapped whole and a stream event by event, the provider's bytes
still kept for the log: the log stores what the provider received and sent.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable

from helioscope._asgi import BODY_FOLLOWS, PARSED_HEADERS, Send, http_date
from helioscope.gateway._call import Call
from helioscope.gateway.controls import GatewayControls
from helioscope.gateway.upstream import UpstreamError, UpstreamResponse
from helioscope.ingest import STATUS_CLIENT_CANCELLED, STATUS_TIMEOUT, CallCapture
from helioscope.providers.chat_parts import MappingError
from helioscope.providers.mapping import Mapping, StreamMapper

Headers = list[tuple[bytes, bytes]]

# Never relayed: connection-level headers.
DROP_RESPONSE = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"trailer",
        b"upgrade",
    }
)
# Also dropped from a mapped response: they describe the provider's body, not the client's.
_DROP_MAPPED = DROP_RESPONSE | {b"content-length", b"content-type", b"content-encoding"}


def _headers(response: UpstreamResponse, drop: frozenset[bytes], call: Call) -> Headers:
    index = response.index
    if drop.isdisjoint(index):  # (most answers: a copy in C, not a Python loop per header)
        headers = response.raw_headers.copy()
    else:
        headers = [(k, v) for k, v in response.raw_headers if k not in drop]
    if b"date" not in index:  # a forwarded response carries one (RFC 9110)
        headers.append((b"date", http_date()))
    if call.controls is not None:  # the cache stores the headers as the client gets them
        call.stored_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
    return headers


# The last event of an OpenAI-format stream: a client that has it has the whole answer.
_DONE = b"data: [DONE]"


def hung_up(call: Call, controls: GatewayControls | None) -> None:
    """Log a call whose client went away as cancelled, unless it had its whole stream.

    One that had is an answered call: cached and its cents charged, as any other.
    """
    if not _had_whole_stream(call):
        call.capture.completed, call.capture.status = False, STATUS_CLIENT_CANCELLED
    elif controls is not None:
        controls.after(call)


def _had_whole_stream(call: Call) -> bool:
    """Whether the client of a stream was sent its last event (``data: [DONE]``).

    OpenAI's synchronous SDK stops reading at that event and closes the connection without
    waiting for the body's end (its ``Stream.__stream__``), so a hang-up after it is the end
    of an answered call, not a cancelled one. (Checked once, when the client has gone: the
    event was handed to the server, which may not have written it if the client went away for
    another reason at that very moment; the log then holds the whole answer all the same.)
    """
    capture = call.capture
    if not capture.is_stream or (call.client_chunks is None and capture.content_encoding):
        return False  # (a compressed stream's bytes say nothing without decoding them)
    tail = b"".join(call.answered_chunks()[-2:])[-64:]  # (an event may span two reads)
    return tail.rstrip().endswith(_DONE)


def relay(
    response: UpstreamResponse, mapping: Mapping | None, call: Call, send: Send
) -> Awaitable[None]:
    """Relay ``response`` to the client (mapped when ``mapping`` says so), then release it.

    (A plain function returning the relay to await: one coroutine layer less on the hot path.)
    """
    if mapping is None or mapping.native:
        return _relay_as_is(response, call, send)
    return _relay_mapped(response, mapping, call, send)


async def _relay_as_is(response: UpstreamResponse, call: Call, send: Send) -> None:
    capture = call.capture
    capture.status = response.status
    headers = _headers(response, DROP_RESPONSE, call)
    # The upstream's (llhttp parsed them), our date and our id: the server need not check them.
    parsed = len(headers) + call.checked_extra
    headers.extend(call.extra)
    encoding = response.index.get(b"content-encoding")
    capture.content_encoding = None if encoding is None else encoding.decode("latin-1")
    capture.is_stream = response.content_type == "text/event-stream"
    try:
        if capture.is_stream or response.content_length is None:
            await send(_start(response.status, headers, parsed))
            await _stream(response, capture, send, None, [])
            return
        # A body of known length that is not a stream (most calls), relayed in one message:
        # one write to the client instead of one per network read, and no extra loop turns.
        try:
            body = await response.read()
        except (TimeoutError, UpstreamError) as exc:
            await _answer_broken_body(call, exc, send)
            return
        capture.first_chunk = capture.ended = time.perf_counter()
        capture.chunks.append(body)
        await send(_start(response.status, headers, parsed, body_follows=True))
        await send({"type": "http.response.body", "body": body, "more_body": False})
    finally:
        response.release()


async def _stream(
    response: UpstreamResponse,
    capture: CallCapture,
    send: Send,
    stream: StreamMapper | None,
    sent: list[bytes],
) -> None:
    """Relay the body chunk by chunk; through ``stream`` when mapped (and into ``sent``).

    (A client that goes away cancels the call: see ``gateway._disconnect``.)
    """
    try:
        await _pump(response, capture, send, stream, sent)
    except (TimeoutError, UpstreamError) as exc:
        # The client has a 200 and part of the body: ending the body normally would make the
        # truncated answer look complete (curl exits 0, an SDK parses what came). Returning
        # without the last message makes the server abort the connection instead (ASGI:
        # uvicorn closes it, with no chunked terminator), which the client sees as an error.
        broke_off(capture, exc)
        return
    last = stream.close() if stream is not None else b""
    if last:
        sent.append(last)
    await send({"type": "http.response.body", "body": last, "more_body": False})


async def _pump(
    response: UpstreamResponse,
    capture: CallCapture,
    send: Send,
    stream: StreamMapper | None,
    sent: list[bytes],
) -> None:
    """Forward the upstream chunks as they arrive, kept for the log (and mapped, with a mapper)."""
    while (chunk := await response.next_chunk()) is not None:
        if capture.first_chunk is None:
            capture.first_chunk = time.perf_counter()
        capture.chunks.append(chunk)
        if stream is not None:
            chunk = stream.feed(chunk)
            if not chunk:
                continue  # an event still incomplete: nothing for the client yet
            sent.append(chunk)
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    capture.ended = time.perf_counter()


async def _relay_mapped(
    response: UpstreamResponse, mapping: Mapping, call: Call, send: Send
) -> None:
    try:
        await _map(response, mapping, call, send)
    finally:
        response.release()


async def _map(response: UpstreamResponse, mapping: Mapping, call: Call, send: Send) -> None:
    capture = call.capture
    capture.status = response.status
    capture.is_stream = response.content_type == "text/event-stream"
    headers = _headers(response, _DROP_MAPPED, call)
    if capture.is_stream:
        headers.append((b"content-type", b"text/event-stream"))
        parsed = len(headers) + call.checked_extra  # (as in _relay_as_is, and our type)
        headers.extend(call.extra)
        call.client_chunks = []
        mapper = mapping.stream_mapper()
        await send(_start(response.status, headers, parsed))
        await _stream(response, capture, send, mapper, call.client_chunks)
        return
    try:
        raw = await response.read()
    except (TimeoutError, UpstreamError) as exc:
        await _answer_broken_body(call, exc, send)
        return
    capture.first_chunk = capture.ended = time.perf_counter()
    capture.chunks.append(raw)
    try:
        body = mapping.client_body(raw, response.status)
    except MappingError as exc:
        capture.error = f"the provider's answer could not be mapped: {exc}"
        await call.errors.send(send, 502, capture.error, call.extra)
        return
    call.client_chunks = [body]
    headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    parsed = len(headers) + call.checked_extra  # (as in _relay_as_is, and our framing)
    headers.extend(call.extra)
    await send(_start(response.status, headers, parsed))
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _start(
    status: int, headers: Headers, parsed: int, *, body_follows: bool = False
) -> dict[str, object]:
    """A response's start message.

    Its first ``parsed`` headers need no check; with ``body_follows``, the whole body is the
    next message (the server then writes the head with it, in one write).
    """
    return {
        "type": "http.response.start",
        "status": status,
        "headers": headers,
        PARSED_HEADERS: parsed,
        BODY_FOLLOWS: body_follows,
    }


def broke_off(capture: CallCapture, exc: Exception) -> None:
    """Record an upstream response that ended early: Helicone's -2, and the error."""
    capture.ended = time.perf_counter()
    capture.completed = False
    capture.error = f"upstream response broke off: {exc!r}"
    capture.status = STATUS_TIMEOUT


async def _answer_broken_body(call: Call, exc: Exception, send: Send) -> None:
    """A body of known length broke off before a byte reached the client: answer an error.

    The client gets what the log records, with the call's ``Helicone-Id``: a 504 logged as
    -2 when the upstream timed out (as when it never answered), else a 502 logged as 502.
    """
    broke_off(call.capture, exc)
    status = 504
    if not isinstance(exc, TimeoutError):
        status = call.capture.status = 502
    await call.fail(send, status, call.capture.error or "")
