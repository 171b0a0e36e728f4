"""Upstream answers that break off: the client must see a failure, and the log must agree.

The upstream here is a raw socket server that sends part of an answer and then resets the
connection (``SO_LINGER`` 0: an RST, as a crashed provider or a dropped load balancer does).
The calls go through a real loopback server of Helioscope: what is checked is what a client
on the wire sees (curl's exit status, the response's headers).
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
import pytest

from helioscope import Settings
from tests.gateway.clients import stored
from tests.gateway.raw_upstream import raw_upstream, read_request
from tests.gateway.test_headers import CHAT
from tests.running import Running, running

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine

STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
)
EVENT = b'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{}}]}\n\n'
JSON_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 4000\r\n\r\n"


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


@asynccontextmanager
async def resetting_upstream(answer: bytes) -> AsyncIterator[str]:
    """An upstream that reads a request, sends ``answer`` (a part of a response) and resets."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer)
        await writer.drain()
        await asyncio.sleep(0.1)  # the part arrives (and is relayed) before the reset
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async with raw_upstream(serve) as url:
        yield url


@asynccontextmanager
async def through(settings: Settings, upstream: str) -> AsyncIterator[Running]:
    """Helioscope with ``upstream`` as its OpenAI base URL (a configured provider origin)."""
    async with running(settings.model_copy(update={"openai_base_url": upstream})) as hs:
        yield hs


async def curl(url: str, key: str, body: bytes, out: Path) -> tuple[int, dict[str, str]]:
    """POST ``body`` with curl; its exit status and the response headers it saw."""
    headers = out.with_suffix(".headers")
    process = await asyncio.create_subprocess_exec(
        "curl",
        "--silent",
        "--no-buffer",
        "--max-time",
        "20",
        "--dump-header",
        str(headers),
        "--output",
        str(out),
        "-H",
        f"Helicone-Auth: Bearer {key}",
        "-H",
        "Authorization: Bearer sk-provider",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        "@-",
        url,
        stdin=asyncio.subprocess.PIPE,
    )
    await process.communicate(body)
    assert process.returncode is not None
    lines = headers.read_text().splitlines()[1:]
    return process.returncode, {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines if ":" in line)
    }


async def test_a_stream_cut_by_the_upstream_aborts_the_client_and_logs_minus_2(
    settings: Settings, tmp_path: Path
) -> None:
    answer = STREAM_HEAD + _chunk(EVENT) + _chunk(EVENT)
    async with resetting_upstream(answer) as upstream, through(settings, upstream) as hs:
        body = orjson.dumps({**CHAT, "stream": True})
        out = tmp_path / "stream.txt"
        code, headers = await curl(f"{hs.url}/oai/v1/chat/completions", hs.key, body, out)
        # 18: "transfer closed with outstanding read data remaining"; 56: receive failure.
        # Not 0: a cut stream must not look complete.
        assert code in (18, 56), code
        assert EVENT in out.read_bytes()  # what came before the cut was relayed as it came
        row = await stored(hs, headers["helicone-id"])
    assert row["status"] == -2
    assert "broke off" in row["error"]
    assert row["is_stream"] is True


async def test_a_json_body_cut_by_the_upstream_is_a_502_with_its_id_and_logged_so(
    settings: Settings, tmp_path: Path
) -> None:
    answer = JSON_HEAD + b'{"id":"chatcmpl-1","object":"chat.completion","choices":['
    async with resetting_upstream(answer) as upstream, through(settings, upstream) as hs:
        out = tmp_path / "json.txt"
        code, headers = await curl(
            f"{hs.url}/oai/v1/chat/completions", hs.key, orjson.dumps(CHAT), out
        )
        assert code == 0  # a complete 502 answer, not a cut one
        error = orjson.loads(out.read_bytes())
        assert error["data"] is None
        assert "broke off" in error["error"]
        row = await stored(hs, headers["helicone-id"])
    assert row["status"] == 502
    assert "broke off" in row["error"]
