"""The upstream's response headers as the client gets them: as sent, less connection-level ones.

The relay copies the header list whole when no connection-level header is in it, and filters
it otherwise; a repeated header is relayed every time, in order; a response without ``Date``
gets one. The upstream is a raw socket server, so the bytes it answers are exactly these.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import orjson
import pytest

from helioscope import Settings
from tests.gateway.raw_upstream import raw_upstream, read_request
from tests.gateway.test_headers import CHAT
from tests.gateway.test_truncation import through

pytestmark = pytest.mark.one_engine

BODY = b'{"id":"chatcmpl-1","object":"chat.completion","choices":[]}'


@asynccontextmanager
async def answering(head: bytes) -> AsyncIterator[str]:
    """An upstream that answers every request with ``head`` (its header lines) and ``BODY``."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_request(reader) is not None:
            writer.write(
                b"HTTP/1.1 200 OK\r\n%scontent-length: %d\r\n\r\n%s" % (head, len(BODY), BODY)
            )
            await writer.drain()
        writer.close()

    async with raw_upstream(serve) as url:
        yield url


async def _call(url: str, key: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(
            f"{url}/oai/v1/chat/completions",
            content=orjson.dumps(CHAT),
            headers={
                "helicone-auth": f"Bearer {key}",
                "authorization": "Bearer sk-provider",
                "content-type": "application/json",
            },
        )


async def test_connection_level_headers_are_dropped_and_the_rest_relayed_in_order(
    settings: Settings,
) -> None:
    head = (
        b"Content-Type: application/json\r\nConnection: keep-alive\r\nX-Dup: one\r\n"
        b"Keep-Alive: timeout=5\r\nX-Dup: two\r\nDate: Mon, 07 Dec 2026 09:00:00 GMT\r\n"
    )
    async with answering(head) as upstream, through(settings, upstream) as hs:
        response = await _call(hs.url, hs.key)
    assert response.status_code == 200
    assert response.content == BODY
    assert "keep-alive" not in response.headers
    assert response.headers.get_list("x-dup") == ["one", "two"]
    assert response.headers.get_list("date") == ["Mon, 07 Dec 2026 09:00:00 GMT"]
    names = [name for name, _ in response.headers.raw]
    assert names[:4] == [b"content-type", b"x-dup", b"x-dup", b"date"]
    assert b"helicone-id" in names


async def test_headers_with_none_to_drop_are_relayed_as_sent_and_dated(
    settings: Settings,
) -> None:
    head = b"Content-Type: application/json\r\nX-Request-Id: r1\r\nX-Dup: one\r\nX-Dup: two\r\n"
    async with answering(head) as upstream, through(settings, upstream) as hs:
        response = await _call(hs.url, hs.key)
    assert response.status_code == 200
    assert response.content == BODY
    names = [name for name, _ in response.headers.raw]
    assert names[:5] == [b"content-type", b"x-request-id", b"x-dup", b"x-dup", b"content-length"]
    assert response.headers.get_list("x-dup") == ["one", "two"]
    assert len(response.headers.get_list("date")) == 1  # the gateway's, as the upstream sent none
