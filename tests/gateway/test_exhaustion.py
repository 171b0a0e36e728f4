"""Clients that hold descriptors: slow requests, dropped calls, one tenant's flood (issue 16)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from helioscope import Settings
from helioscope.testing import FakeProvider
from tests.gateway.clients import PROVIDER_KEY, stored
from tests.gateway.test_headers import CHAT
from tests.running import Running, running


@asynccontextmanager
async def with_settings(settings: Settings, **updates: Any) -> AsyncIterator[Running]:
    async with running(settings.model_copy(update=updates)) as hs:
        yield hs


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> float:
    """How long until the server closes the connection (failing past ``seconds``)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    try:
        data = await asyncio.wait_for(reader.read(), seconds)
    except ConnectionResetError:
        data = b""
    assert data == b"", data  # closed, not answered
    return loop.time() - start


@pytest.mark.parametrize(
    "sent",
    [
        b"",  # connects and says nothing
        b"POST /oai/v1/chat/completions HTTP/1.1\r\nhost: x\r\n",  # headers never end
        b"POST /oai/v1/chat/completions HTTP/1.1\r\nhost: x\r\nhelicone-auth: Bearer KEY\r\n"
        b"content-length: 100\r\n\r\n{",
    ],
    ids=["silent", "half-headers", "half-body"],
)
async def test_a_half_open_connection_is_closed_after_the_timeout(
    settings: Settings, fake: FakeProvider, sent: bytes
) -> None:
    async with with_settings(
        settings, client_header_timeout_seconds=0.5, client_body_timeout_seconds=0.5
    ) as hs:
        port = int(hs.url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(sent.replace(b"KEY", hs.key.encode()))
            waited = await closed_within(reader, 5)
        finally:
            writer.close()
    assert 0.4 <= waited < 3
    assert fake.calls == []  # half a body is never forwarded


async def test_a_slow_but_steady_body_is_not_cut(settings: Settings, fake: FakeProvider) -> None:
    """The body's timeout is a pause between reads, not a total."""
    async with with_settings(settings, client_body_timeout_seconds=0.5) as hs:

        async def body() -> AsyncIterator[bytes]:
            text = httpx.Request("POST", "/", json=CHAT).content
            for i in range(0, len(text), 20):
                yield text[i : i + 20]
                await asyncio.sleep(0.1)  # 1 s in all, in pauses shorter than the timeout

        async with httpx.AsyncClient(base_url=hs.url) as http:
            response = await http.post(
                "/oai/v1/chat/completions",
                content=body(),
                headers={
                    "authorization": f"Bearer {PROVIDER_KEY}",
                    "helicone-auth": f"Bearer {hs.key}",
                    "content-type": "application/json",
                },
            )
    assert response.status_code == 200


async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
    """Send ``GET /health`` on a kept-alive connection; the answer's status."""
    writer.write(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    await reader.readexactly(length)
    return int(head.split(b" ", 2)[1])


async def test_an_idle_keep_alive_connection_is_closed_after_its_timeout(
    settings: Settings,
) -> None:
    # The keep-alive limit (1 s) is shorter than the header timeout (15 s): between requests
    # it is the one that applies, and a client that keeps asking keeps its connection.
    async with with_settings(settings, client_keepalive_seconds=1) as hs:
        port = int(hs.url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for _ in range(4):  # 2 s in all, in pauses shorter than the limit
                assert await answer(reader, writer) == 200
                await asyncio.sleep(0.5)
            waited = await closed_within(reader, 5)
        finally:
            writer.close()
    assert 0.3 <= waited < 3  # 1 s after the last answer, 0.5 s of which went in the sleep


@asynccontextmanager
async def silent_upstream() -> AsyncIterator[tuple[str, asyncio.Event, asyncio.Event]]:
    """An upstream that reads a request and never answers; its events: a request came, and
    the gateway closed that connection."""
    arrived, dropped = asyncio.Event(), asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        arrived.set()
        while await reader.read(65536):
            pass
        dropped.set()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}", arrived, dropped
    finally:
        server.close()


async def test_a_dropped_client_cancels_its_upstream_call(settings: Settings) -> None:
    async with (
        silent_upstream() as (upstream, arrived, dropped),
        with_settings(settings, openai_base_url=upstream) as hs,
    ):
        request_id = str(uuid.uuid4())
        async with httpx.AsyncClient(base_url=hs.url) as http:
            call = asyncio.create_task(
                http.post(
                    "/oai/v1/chat/completions",
                    json=CHAT,  # not a stream: a JSON answer is awaited
                    headers={
                        "authorization": f"Bearer {PROVIDER_KEY}",
                        "helicone-auth": f"Bearer {hs.key}",
                        "helicone-request-id": request_id,
                    },
                )
            )
            await asyncio.wait_for(arrived.wait(), 5)
            call.cancel()  # the client hangs up while the upstream has not answered
            with pytest.raises(asyncio.CancelledError):
                await call
        await asyncio.wait_for(dropped.wait(), 5)  # the upstream sees the gateway hang up
        row = await stored(hs, request_id)
    assert row["status"] == -3


def slow_call(hs: Running, key: str, delay_ms: int = 1500) -> asyncio.Task[httpx.Response]:
    return asyncio.create_task(
        hs.client.post(
            "/oai/v1/chat/completions",
            json=CHAT,
            headers={
                "authorization": f"Bearer {PROVIDER_KEY}",
                "helicone-auth": f"Bearer {key}",
                "x-fake-first-token-delay-ms": str(delay_ms),
            },
        )
    )


async def wait_in_flight(hs: Running, count: int) -> None:
    inflight = hs.services.started.gateway.inflight
    for _ in range(500):
        if inflight.in_flight >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} calls did not get in flight")


async def test_one_org_past_its_in_flight_cap_gets_429_while_another_gets_through(
    settings: Settings, fake: FakeProvider
) -> None:
    async with with_settings(settings, max_inflight_per_org=2) as hs:
        _, other_key = await hs.add_org("other")
        slow = [slow_call(hs, hs.key), slow_call(hs, hs.key)]
        await wait_in_flight(hs, 2)
        refused = await slow_call(hs, hs.key, 0)
        other = await slow_call(hs, other_key, 0)
        done = await asyncio.gather(*slow)
        again = await slow_call(hs, hs.key, 0)  # the places are given back
        row = await stored(hs, refused.headers["helicone-id"])
    assert refused.status_code == 429
    assert "in flight" in refused.json()["message"]  # Helicone's rate-limit shape
    assert row["response_body"] == refused.text  # logged as the client got it
    assert other.status_code == 200
    assert [response.status_code for response in done] == [200, 200]
    assert again.status_code == 200
    assert row["status"] == 429
    assert len(fake.calls) == 4  # the refused call never went upstream


async def test_the_gateway_full_answers_503(settings: Settings, fake: FakeProvider) -> None:
    async with with_settings(settings, max_inflight_calls=1) as hs:
        _, other_key = await hs.add_org("other")
        slow = slow_call(hs, hs.key)
        await wait_in_flight(hs, 1)
        refused = await slow_call(hs, other_key, 0)
        # The API is not counted: it answers while the gateway is full.
        api = await hs.client.post("/v1/request/query", json={"filter": "all"}, headers=hs.auth())
        assert (await slow).status_code == 200
    assert refused.status_code == 503
    assert refused.json()["data"] is None
    assert "calls in flight" in refused.json()["error"]
    assert api.status_code == 200, api.text
