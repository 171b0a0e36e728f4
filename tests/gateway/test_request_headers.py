"""The upstream request's headers, as an upstream reading raw bytes receives them.

A client's headers are forwarded as the server's parser read them, in bytes, never decoded and
encoded again; the gateway's text ones (a ``Helicone-Fallbacks`` entry's, its URL) are checked,
and one holding a line break or NUL is refused before a byte goes upstream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import orjson
import pytest

from helioscope import Settings
from tests.gateway.clients import PROVIDER_KEY
from tests.gateway.raw_upstream import raw_upstream, read_request
from tests.gateway.test_headers import CHAT
from tests.gateway.test_truncation import through

pytestmark = pytest.mark.one_engine

BODY = b'{"id":"chatcmpl-1","object":"chat.completion","choices":[]}'
ANSWER = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (
    len(BODY),
    BODY,
)


@asynccontextmanager
async def recording(heads: list[bytes]) -> AsyncIterator[str]:
    """An upstream that keeps each request's head in ``heads`` and answers it with ``BODY``."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (head := await read_request(reader)) is not None:
            heads.append(head)
            writer.write(ANSWER)
            await writer.drain()
        writer.close()

    async with raw_upstream(serve) as url:
        yield url


async def _send(url: str, head: bytes, body: bytes) -> int:
    """POST ``body`` to ``url`` with the exact header lines ``head``; the answer's status."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            b"POST /oai/v1/chat/completions HTTP/1.1\r\nhost: x\r\n%scontent-length: %d\r\n\r\n%s"
            % (head, len(body), body)
        )
        answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        return int(answer.split(b" ", 2)[1])
    finally:
        writer.close()


def _lines(head: bytes) -> list[bytes]:
    return head.split(b"\r\n")


async def test_a_client_header_reaches_the_upstream_byte_for_byte(settings: Settings) -> None:
    heads: list[bytes] = []
    async with recording(heads) as upstream, through(settings, upstream) as hs:
        head = (
            b"content-type: application/json\r\n"
            b"X-Note: caf\xe9 \xa0\xff end\r\n"  # obs-text: Latin-1 bytes past ASCII
            b"authorization: Bearer " + PROVIDER_KEY.encode() + b"\r\n"
            b"helicone-auth: Bearer " + hs.key.encode() + b"\r\n"
        )
        assert await _send(hs.url, head, orjson.dumps(CHAT)) == 200
    [sent] = heads
    lines = _lines(sent)
    assert b"x-note: caf\xe9 \xa0\xff end" in lines  # the name lower-cased by the server
    assert b"authorization: Bearer " + PROVIDER_KEY.encode() in lines
    assert b"content-type: application/json" in lines
    assert not [line for line in lines if line.startswith(b"helicone-")]


async def test_the_helicone_key_taken_out_of_authorization_leaves_the_provider_key(
    settings: Settings,
) -> None:
    heads: list[bytes] = []
    async with recording(heads) as upstream, through(settings, upstream) as hs:
        head = (
            b"content-type: application/json\r\n"
            b"authorization: Bearer " + hs.key.encode() + b", Bearer sk-provider\r\n"
        )
        assert await _send(hs.url, head, orjson.dumps(CHAT)) == 200
    [sent] = heads
    assert [line for line in _lines(sent) if line.startswith(b"authorization")] == [
        b"authorization: Bearer sk-provider"
    ]


def _fallbacks(*entries: Mapping[str, object]) -> bytes:
    return b"helicone-fallbacks: " + orjson.dumps(list(entries)) + b"\r\n"


@pytest.mark.parametrize(
    "entry",
    [
        {"headers": {"x-a": "v\r\nx-injected: 1"}},
        {"headers": {"x-a": "v\nx-injected: 1"}},
        {"headers": {"x-a\r\nx-injected": "1"}},
        {"headers": {"x-a": "nul\u0000"}},
        {"path": "/v1\r\nx-injected: 1"},
    ],
    ids=["crlf-in-value", "lf-in-value", "crlf-in-name", "nul-in-value", "crlf-in-url"],
)
async def test_a_fallback_entry_with_a_line_break_is_refused_before_anything_is_sent(
    settings: Settings, entry: dict[str, object]
) -> None:
    heads: list[bytes] = []
    async with recording(heads) as upstream, through(settings, upstream) as hs:
        bad = {
            "target-url": upstream + str(entry.get("path", "")),
            "headers": entry.get("headers", {}),
            "onCodes": [500],
        }
        auth = (
            b"content-type: application/json\r\n"
            b"authorization: Bearer sk-provider\r\n"
            b"helicone-auth: Bearer " + hs.key.encode() + b"\r\n"
        )
        body = orjson.dumps(CHAT)
        # Alone, it answers as an upstream that cannot be reached: a 502, and nothing sent.
        assert await _send(hs.url, auth + _fallbacks(bad), body) == 502
        assert heads == []
        # Before a good entry, it gives way to it, as an unreachable upstream does.
        good = {"target-url": upstream, "headers": {"x-b": "2"}, "onCodes": [500]}
        assert await _send(hs.url, auth + _fallbacks(bad, good), body) == 200
    [sent] = heads
    assert b"x-b: 2" in _lines(sent)
    assert b"x-injected" not in sent
