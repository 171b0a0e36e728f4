"""Small raw-ASGI helpers for hot paths (the gateway, the async log API): no framework objects."""

from __future__ import annotations

import email.utils
import time
from typing import Any

import orjson
from starlette.types import Message, Receive, Scope, Send

from helioscope.errors import BadRequest, PayloadTooLarge

__all__ = [
    "BODY_FOLLOWS",
    "PARSED_HEADERS",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "http_date",
    "read_body",
    "send_error",
    "send_json",
    "send_json_body",
    "send_text",
    "with_date",
]


# A key of an ``http.response.start`` message: the whole body follows in the same event-loop
# turn, in one message. Helioscope's server then writes the head with the body, in one write
# and with nothing to schedule (``_server_cycle``); other ASGI servers ignore keys they do
# not know.
BODY_FOLLOWS = "helioscope.body_follows"
# A key of an ``http.response.start`` message: how many of its leading headers came through
# llhttp's parser (an upstream's answer), which refuses a control character, a CR, an LF or a
# NUL in a name or a value. Helioscope's server checks only the headers after them.
PARSED_HEADERS = "helioscope.parsed_headers"


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body.

    ``PayloadTooLarge`` past ``limit`` bytes; ``BadRequest`` when the client goes away first.
    """
    message = await receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        whole: bytes = message.get("body", b"")  # the whole body at once (most requests)
        if len(whole) > limit:
            raise PayloadTooLarge(f"body is larger than the limit of {limit} bytes")
        return whole
    chunks: list[bytes] = []
    size = 0
    while True:
        if message["type"] == "http.disconnect":
            # Gone mid-body (or timed out, see ``_client_timeouts``): never act on a part.
            raise BadRequest("the client closed the connection before its body was complete")
        body = message.get("body", b"")
        if body:
            size += len(body)
            if size > limit:
                raise PayloadTooLarge(f"body is larger than the limit of {limit} bytes")
            chunks.append(body)
        if not message.get("more_body", False):
            break
        message = await receive()
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


_date: tuple[int, bytes] = (0, b"")


def http_date() -> bytes:
    """The ``Date`` header value for now (formatted once per second).

    The server runs without uvicorn's own ``date`` and ``server`` headers: a relayed response
    carries the provider's, as a direct call would, instead of two of each. Responses that
    Helioscope writes itself take their ``date`` from here.
    """
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, email.utils.formatdate(now, usegmt=True).encode())
    return _date[1]


def with_date(send: Send) -> Send:
    """``send``, adding a ``date`` header to the response start."""

    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), (b"date", http_date())]
        await send(message)

    return sender


async def _send(
    send: Send, status: int, content_type: bytes, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    raw_headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"date", http_date()),
        *headers,
    ]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": raw_headers,
            BODY_FOLLOWS: True,
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_json_body(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send a complete response of JSON already encoded."""
    await _send(send, status, b"application/json", body, headers or [])


async def send_json(
    send: Send, status: int, payload: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send a complete JSON response."""
    await _send(send, status, b"application/json", orjson.dumps(payload), headers or [])


async def send_text(
    send: Send, status: int, text: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send a complete plain-text response."""
    await _send(send, status, b"text/plain; charset=utf-8", text.encode(), headers or [])


async def send_error(
    send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send Helicone's error envelope ``{"data": null, "error": message}``."""
    await send_json(send, status, {"data": None, "error": message}, headers)
