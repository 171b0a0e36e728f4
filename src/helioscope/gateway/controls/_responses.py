"""Responses the gateway answers itself: cache hits, rate-limit refusals, threats.

Each fills the call's capture too, so the answer is logged like any other call: before the last
message is sent, as the call is journalled then (``gateway._disconnect``).
"""

from __future__ import annotations

import time

import orjson

from helioscope._asgi import Send
from helioscope.gateway.controls._cache import CachedResponse
from helioscope.ingest import STATUS_THREAT, CallCapture


async def send_body(
    send: Send, capture: CallCapture, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    """Send a complete JSON answer and record it in ``capture``."""
    all_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *headers,
    ]
    capture.chunks.append(body)
    capture.first_chunk = capture.ended = time.perf_counter()
    if capture.status == 0:
        capture.status = status
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def threat_body(code: str, message: str, details: str) -> bytes:
    """Helicone's body for a refused prompt."""
    return orjson.dumps(
        {"success": False, "error": {"code": code, "message": message, "details": details}}
    )


async def send_threat(
    send: Send,
    capture: CallCapture,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
) -> None:
    """Refuse a prompt: 400 with ``Helicone-Status: failed``, logged as status -4 and a threat."""
    capture.status, capture.threat = STATUS_THREAT, True
    await send_body(send, capture, 400, body, [*headers, (b"helicone-status", b"failed")])


async def replay(
    send: Send,
    capture: CallCapture,
    entry: CachedResponse,
    headers: list[tuple[bytes, bytes]],
) -> None:
    """Replay a cached response chunk by chunk (a stream stays a stream)."""
    capture.status = entry.status
    capture.is_stream = entry.is_stream
    capture.cache_reference_id = entry.request_id
    stored = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in entry.headers]
    capture.content_encoding = next((v for k, v in entry.headers if k == "content-encoding"), None)
    await send(
        {"type": "http.response.start", "status": entry.status, "headers": [*stored, *headers]}
    )
    for chunk in entry.chunks:
        if capture.first_chunk is None:
            capture.first_chunk = time.perf_counter()
        capture.chunks.append(chunk)
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    capture.ended = time.perf_counter()
    await send({"type": "http.response.body", "body": b"", "more_body": False})
