"""A stream the client read to its end is logged as answered, even if it hung up before the end.

OpenAI's synchronous SDK stops reading a stream at ``data: [DONE]`` and closes the connection
(``Stream.__stream__``: ``break``, then ``response.close()``), without waiting for the
chunked body's terminator. When the upstream's terminator comes after ``[DONE]`` (a separate
read), the gateway sees the hang-up first: the call was logged as cancelled by its client
(status -3, no usage) although the client had its whole answer. Found by a new user: about
1.5% of complete streams through the fake provider were logged -3.

The upstream here sends its last event and holds the terminator back, so that the hang-up
always comes first; the client is the official SDK through the server's real socket.
"""

from __future__ import annotations

import asyncio

import orjson
import pytest
from openai import OpenAI

from helioscope import Settings
from tests.gateway.clients import stored
from tests.gateway.raw_upstream import raw_upstream, read_request
from tests.gateway.test_truncation import STREAM_HEAD, through

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine

ROLE = {"id": "c1", "object": "chat.completion.chunk", "model": "gpt-4o-mini"}
EVENTS = [
    {**ROLE, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}}]},
    {**ROLE, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    {
        **ROLE,
        "choices": [],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    },
]


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _stream_read_to_done(base_url: str, key: str) -> tuple[str, str, str]:
    """The SDK's stream read as a user does (to its end), the gateway cache on: its
    Helicone-Id, its text and whether it came from the cache."""
    client = OpenAI(
        base_url=base_url,
        api_key="sk-provider",
        max_retries=0,
        default_headers={"Helicone-Auth": f"Bearer {key}", "Helicone-Cache-Enabled": "true"},
    )
    with client:
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        text = "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)
        return raw.headers["helicone-id"], text, raw.headers["helicone-cache"]


async def test_a_stream_the_sdk_read_to_done_is_logged_answered_not_cancelled(
    settings: Settings,
) -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        events = b"".join(b"data: %s\n\n" % orjson.dumps(e) for e in EVENTS)
        writer.write(STREAM_HEAD + _chunk(events) + _chunk(b"data: [DONE]\n\n"))
        await writer.drain()
        # The terminator is held back until the gateway lets go of this connection (it does
        # once its client hangs up), or for at most 10 s: it comes after the client is gone.
        try:
            await asyncio.wait_for(reader.read(), timeout=10)
        except TimeoutError:
            pass
        writer.write(b"0\r\n\r\n")
        writer.close()

    async with raw_upstream(serve) as upstream, through(settings, upstream) as hs:
        url = f"{hs.url}/oai/v1"
        request_id, text, cache = await asyncio.to_thread(_stream_read_to_done, url, hs.key)
        assert (text, cache) == ("Hi", "MISS")  # the client had its whole answer
        row = await stored(hs, request_id)
        # An answered call, cached as any other (and its cents charged: controls.after).
        controls = hs.services.started.gateway.controls
        assert controls is not None
        await controls.settle()
        _, replayed, cache = await asyncio.to_thread(_stream_read_to_done, url, hs.key)
        assert (replayed, cache) == ("Hi", "HIT")
    assert row["status"] == 200, row["status"]
    assert row["is_stream"] is True
    assert row["completion_tokens"] == 1  # the usage before [DONE] is read, as for any stream
