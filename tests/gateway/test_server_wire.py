"""The provider routes on the wire, through their own server cycle (``_server_cycle``), and
what the gateway's hot path relies on.

A proxied call is served past uvicorn's middleware by a leaner cycle: what a client sees on a
real socket must not change (100-continue, keep-alive, pipelining, one head per answer).
"""

from __future__ import annotations

import asyncio
import dataclasses

import orjson

from helioscope.gateway._call import Attempt
from helioscope.ingest import CallCapture
from tests.gateway.clients import PROVIDER_KEY
from tests.gateway.test_headers import CHAT
from tests.running import Running

BODY = orjson.dumps(CHAT)


def _request(key: str, *, expect: bool = False) -> bytes:
    return (
        b"POST /oai/v1/chat/completions HTTP/1.1\r\nhost: x\r\n"
        b"content-type: application/json\r\n"
        + f"authorization: Bearer {PROVIDER_KEY}\r\nhelicone-auth: Bearer {key}\r\n".encode()
        + (b"expect: 100-continue\r\n" if expect else b"")
        + f"content-length: {len(BODY)}\r\n\r\n".encode()
    )


async def _answer(reader: asyncio.StreamReader) -> tuple[int, dict[bytes, bytes], bytes]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    lines = head.split(b"\r\n")
    headers = dict(line.lower().split(b": ", 1) for line in lines[1:] if line)
    body = await reader.readexactly(int(headers[b"content-length"]))
    return int(lines[0].split(b" ", 2)[1]), headers, body


async def _port(hs: Running) -> int:
    return int(hs.url.rsplit(":", 1)[1])


async def test_a_client_that_expects_100_continue_gets_it_then_its_answer(
    helioscope: Running,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", await _port(helioscope))
    try:
        writer.write(_request(helioscope.key, expect=True))
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(BODY)
        status, headers, body = await _answer(reader)
        assert status == 200 and b"helicone-id" in headers
        assert orjson.loads(body)["object"] == "chat.completion"
        # The connection is kept: a second call on it is answered.
        writer.write(_request(helioscope.key) + BODY)
        assert (await _answer(reader))[0] == 200
    finally:
        writer.close()


async def test_pipelined_calls_are_answered_in_order_on_one_connection(
    helioscope: Running,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", await _port(helioscope))
    try:
        writer.write(_request(helioscope.key) + BODY + _request("nope") + BODY)
        first, second = await _answer(reader), await _answer(reader)
        assert first[0] == 200 and second[0] == 401
        assert orjson.loads(second[2])["error"]
        writer.write(_request(helioscope.key) + BODY)  # a refused call keeps the connection
        assert (await _answer(reader))[0] == 200
        # Each answer's head is written once, with its framing and no connection close.
        assert b"connection" not in first[1] and first[1][b"content-length"]
    finally:
        writer.close()


def test_the_gateway_makes_its_capture_in_the_capture_s_field_order() -> None:
    # Gateway._accept passes CallCapture's first fields by position (a class called with
    # keywords costs a dict per call on CPython 3.11): a reordering there must be seen here.
    names = [field.name for field in dataclasses.fields(CallCapture)]
    assert names[:10] == [
        "request_id",
        "organization_id",
        "provider",
        "target_url",
        "path",
        "helicone",
        "request_body",
        "started_at",
        "started",
        "api_key_id",
    ]
    attempt = [field.name for field in dataclasses.fields(Attempt)]
    assert attempt[:5] == ["method", "url", "headers", "body", "provider"]


async def test_one_connection_alternating_a_provider_route_and_the_api_reaches_each(
    helioscope: Running,
) -> None:
    # The protocol remembers the last path's direct app per connection: a different path on
    # the same connection must be looked up again (the API is not a provider route).
    health = b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", await _port(helioscope))
    try:
        for _ in range(2):
            writer.write(_request(helioscope.key) + BODY)
            status, headers, body = await _answer(reader)
            assert status == 200 and orjson.loads(body)["object"] == "chat.completion"
            writer.write(health)
            status, headers, body = await _answer(reader)
            assert status == 200 and b"helicone-id" not in headers
            assert "object" not in orjson.loads(body)
    finally:
        writer.close()
