"""Calls that go wrong: bad keys, bad targets, unreachable upstreams, clients that hang up."""

from __future__ import annotations

import asyncio
import socket

import httpx
import orjson
import pytest

from helioscope import Settings
from helioscope.testing import FakeProvider
from tests.conftest import Running
from tests.gateway.clients import PROVIDER_KEY, stored
from tests.gateway.test_headers import CHAT, post_chat
from tests.running import running

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"helicone-auth": "Bearer sk-helicone-unknown-key"},
        {"helicone-auth": "Bearer"},
    ],
    ids=["missing", "unknown", "empty"],
)
async def test_bad_helicone_key_is_401_and_nothing_is_forwarded(
    helioscope: Running, fake: FakeProvider, headers: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=helioscope.url) as http:
        response = await http.post(
            "/oai/v1/chat/completions",
            json=CHAT,
            headers={"authorization": f"Bearer {PROVIDER_KEY}", **headers},
        )
    assert response.status_code == 401
    body = response.json()
    assert body["data"] is None
    assert "Helicone" in body["error"]
    assert fake.calls == []


async def test_unreachable_upstream_is_502_and_logged(settings: Settings) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    # A private target, so it must be on the allow list (issue 16: SSRF).
    async with (
        running(settings.model_copy(update={"allowed_private_targets": dead})) as helioscope,
        httpx.AsyncClient(base_url=helioscope.url) as http,
    ):
        response = await http.post(
            "/gateway/v1/chat/completions",
            json=CHAT,
            headers={"helicone-auth": f"Bearer {helioscope.key}", "helicone-target-url": dead},
        )
        assert response.status_code == 502
        assert response.json()["data"] is None
        assert "could not reach upstream" in response.json()["error"]
        row = await stored(helioscope, response.headers["helicone-id"])
    assert row["status"] == 502
    assert row["error"] is not None
    assert orjson.loads(row["request_body"]) == CHAT


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (None, "Helicone-Target-URL header is required"),
        ("ftp://example.com", "must be an http(s) origin"),
        ("not a url", "must be an http(s) origin"),
    ],
)
async def test_bad_gateway_target_is_400(
    helioscope: Running, target: str | None, message: str
) -> None:
    headers = {"helicone-auth": f"Bearer {helioscope.key}"}
    if target is not None:
        headers["helicone-target-url"] = target
    async with httpx.AsyncClient(base_url=helioscope.url) as http:
        response = await http.post("/gateway/v1/chat/completions", json=CHAT, headers=headers)
    assert response.status_code == 400
    assert message in response.json()["error"]


async def test_body_over_the_limit_is_413(helioscope: Running, fake: FakeProvider) -> None:
    helioscope.services.started.gateway.max_body_bytes = 1000
    response = await post_chat(helioscope, {}, {"model": "x", "pad": "a" * 2000})
    assert response.status_code == 413
    assert response.json() == {
        "data": None,
        "error": "body is larger than the limit of 1000 bytes",
    }
    assert fake.calls == []


@pytest.mark.parametrize("path", ["/oai/v1/log", "/anthropic/v1/log", "/gateway/v1/feedback"])
async def test_helicone_api_paths_are_not_proxied(
    helioscope: Running, fake: FakeProvider, path: str
) -> None:
    async with httpx.AsyncClient(base_url=helioscope.url) as http:
        response = await http.post(
            path, json={}, headers={"helicone-auth": f"Bearer {helioscope.key}"}
        )
    assert response.status_code == 400  # Helioscope's own route answered, about the body
    assert response.json()["data"] is None
    assert fake.calls == []


async def test_client_disconnect_mid_stream_is_logged_as_cancelled(
    helioscope: Running, fake: FakeProvider
) -> None:
    body = {**CHAT, "stream": True}
    received = b""
    request_id = ""
    async with httpx.AsyncClient(base_url=helioscope.url) as http:
        async with http.stream(
            "POST",
            "/oai/v1/chat/completions",
            json=body,
            headers={
                "authorization": f"Bearer {PROVIDER_KEY}",
                "helicone-auth": f"Bearer {helioscope.key}",
                "x-fake-chunk-delay-ms": "300",
            },
        ) as response:
            request_id = response.headers["helicone-id"]
            async for chunk in response.aiter_raw():
                received += chunk
                break  # hang up after the first chunk
    row = await stored(helioscope, request_id)
    assert row["status"] == -3
    assert row["is_stream"] is True
    assert received
    # What arrived before the hang-up is kept: the role chunk at least.
    assert orjson.loads(row["response_body"])["choices"][0]["message"]["role"] == "assistant"


async def test_slow_first_token_is_measured(helioscope: Running) -> None:
    body = {**CHAT, "stream": True}
    async with httpx.AsyncClient(base_url=helioscope.url) as http:
        response = await http.post(
            "/oai/v1/chat/completions",
            json=body,
            headers={
                "authorization": f"Bearer {PROVIDER_KEY}",
                "helicone-auth": f"Bearer {helioscope.key}",
                "x-fake-first-token-delay-ms": "250",
                "x-fake-chunk-delay-ms": "20",
            },
        )
    assert response.status_code == 200
    row = await stored(helioscope, response.headers["helicone-id"])
    assert 250 <= row["time_to_first_token"] < row["latency"]
    assert row["latency"] >= 250 + 5 * 20


async def test_chunks_arrive_as_the_provider_sends_them(helioscope: Running) -> None:
    """No buffering: the first chunk reaches the client long before the stream ends."""
    body = {**CHAT, "stream": True}
    loop = asyncio.get_running_loop()
    arrivals: list[float] = []
    async with httpx.AsyncClient(base_url=helioscope.url) as http:
        start = loop.time()
        async with http.stream(
            "POST",
            "/oai/v1/chat/completions",
            json=body,
            headers={
                "authorization": f"Bearer {PROVIDER_KEY}",
                "helicone-auth": f"Bearer {helioscope.key}",
                "x-fake-chunk-delay-ms": "150",
            },
        ) as response:
            async for _ in response.aiter_raw():
                arrivals.append(loop.time() - start)
    assert len(arrivals) >= 5
    assert arrivals[0] < 0.15 * 3  # well before the 7 delayed chunks that follow
    assert arrivals[-1] - arrivals[0] >= 0.15 * 5
