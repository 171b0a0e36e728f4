"""Bodies are bounded before anyone reads them: the key first (from headers), then the limit.

Requests are driven as raw ASGI, so the tests see exactly how much of a body the app asked for.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from helioscope import Settings
from tests.api.inprocess import InProcess, Org

API_LIMIT = 4096
LOG_LIMIT = 64 * 1024
HUGE = 419_430_400  # the 400 MB that made the server buffer before answering 400


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"max_api_body_bytes": API_LIMIT, "max_request_body_bytes": LOG_LIMIT}
    )


@pytest.fixture
async def org(api: InProcess) -> Org:
    return await api.add_org("limits")


@dataclass
class Sent:
    """What the app answered, and how much of the body it took."""

    status: int = 0
    body: bytes = b""
    received: int = 0  # receive() calls that delivered body bytes
    bytes_read: int = 0
    headers: dict[bytes, bytes] = field(default_factory=dict)

    def json(self) -> Any:
        return orjson.loads(self.body)


async def send(
    api: InProcess,
    path: str,
    *,
    key: str | None = None,
    length: int | None = None,
    chunks: Iterator[bytes] | None = None,
    method: str = "POST",
) -> Sent:
    """One request as raw ASGI; ``chunks`` is the body (``length``: its declared size)."""
    headers = [(b"content-type", b"application/json")]
    if key:
        headers.append((b"authorization", f"Bearer {key}".encode()))
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    else:
        headers.append((b"transfer-encoding", b"chunked"))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("hs", 80),
    }
    sent = Sent()
    pending = chunks or iter(())

    async def receive() -> dict[str, Any]:
        chunk = next(pending, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        sent.received += 1
        sent.bytes_read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send_message(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            sent.status = message["status"]
            sent.headers = dict(message.get("headers", []))
        elif message["type"] == "http.response.body":
            sent.body += message.get("body", b"")

    await api.app(scope, receive, send_message)
    return sent


def endless(size: int = 64 * 1024) -> Iterator[bytes]:
    """A body that never ends, in chunks of ``size`` bytes."""
    return itertools.repeat(b" " * size)


def log_body(padding: int) -> bytes:
    """A valid async log body of about ``padding`` bytes."""
    now = time.time()
    return orjson.dumps(
        {
            "providerRequest": {
                "url": "https://api.openai.com/v1/chat/completions",
                "json": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]},
                "meta": {"Helicone-Property-Pad": "p" * padding},
            },
            "providerResponse": {"status": 200, "json": {"choices": []}},
            "timing": {"startTime": now - 1, "endTime": now},
        }
    )


# An API route, a FastAPI log route, and a raw log route served ahead of FastAPI.
ROUTES = ("/v1/request/query", "/v1/trace/custom/log", "/custom/v1/log")


@pytest.mark.parametrize("path", ROUTES)
async def test_no_key_and_a_huge_length_is_401_unread(api: InProcess, path: str) -> None:
    sent = await send(api, path, length=HUGE, chunks=endless())
    assert sent.status == 401
    assert sent.json()["data"] is None and "Helicone-Auth" in sent.json()["error"]
    assert sent.received == 0


async def test_a_key_without_the_scope_is_403_unread(api: InProcess, org: Org) -> None:
    sent = await send(api, "/v1/property/hide", key=org.keys["r"], length=HUGE, chunks=endless())
    assert (sent.status, sent.received) == (403, 0)
    assert "write scope" in sent.json()["error"]


@pytest.mark.parametrize(
    ("path", "limit"),
    [("/v1/request/query", API_LIMIT), ("/v1/trace/custom/log", LOG_LIMIT)]
    + [("/custom/v1/log", LOG_LIMIT)],
)
async def test_a_length_over_the_limit_is_413_unread(
    api: InProcess, org: Org, path: str, limit: int
) -> None:
    sent = await send(api, path, key=org.keys["rw"], length=limit + 1, chunks=endless())
    assert (sent.status, sent.received) == (413, 0)
    assert sent.json() == {"data": None, "error": f"body is larger than the limit of {limit} bytes"}


@pytest.mark.parametrize(
    ("path", "limit"), [("/v1/request/query", API_LIMIT), ("/custom/v1/log", LOG_LIMIT)]
)
async def test_a_chunked_body_is_cut_at_the_limit(
    api: InProcess, org: Org, path: str, limit: int
) -> None:
    chunk = 1000
    sent = await send(api, path, key=org.keys["rw"], chunks=endless(chunk))
    assert sent.status == 413
    assert "limit" in sent.json()["error"]
    assert limit < sent.bytes_read <= limit + chunk  # read to the limit, and not a chunk more


async def test_a_chunked_body_under_the_limit_is_served(api: InProcess, org: Org) -> None:
    body = orjson.dumps({"filter": "all", "limit": 5})
    chunks = iter([body[:10], body[10:]])
    sent = await send(api, "/v1/request/count/query", key=org.keys["r"], chunks=chunks)
    assert (sent.status, sent.json()) == (200, {"data": 0, "error": None})


async def test_log_routes_take_the_gateway_limit(api: InProcess, org: Org) -> None:
    body = log_body(3 * API_LIMIT)  # over the API's limit, under the log routes'
    assert API_LIMIT < len(body) < LOG_LIMIT
    raw = await send(
        api, "/custom/v1/log", key=org.keys["w"], length=len(body), chunks=iter([body])
    )
    assert raw.status == 200 and raw.headers[b"helicone-id"]
    trace = await send(
        api, "/v1/trace/custom/log", key=org.keys["w"], length=len(body), chunks=iter([body])
    )
    assert trace.status == 204
    query = await send(
        api, "/v1/request/query", key=org.keys["rw"], length=len(body), chunks=iter([body])
    )
    assert query.status == 413
    await api.services.started.writer.flush()
    everything = b'{"filter": "all"}'
    count = await send(
        api, "/v1/request/count/query", key=org.keys["r"], length=17, chunks=iter([everything])
    )
    assert count.json() == {"data": 2, "error": None}


async def test_a_raw_route_answers_a_wrong_method_with_405(api: InProcess, org: Org) -> None:
    sent = await send(api, "/custom/v1/log", key=org.keys["w"], method="GET", length=0)
    assert sent.status == 405
    assert sent.json() == {"data": None, "error": "method not allowed: use POST"}
