"""SSRF: callers' URLs never reach private addresses or the server itself (issue 16 point 4).

The default policy is what is tested: these Helioscopes allow only their configured origins
(the fake provider, as the OpenAI and Anthropic base URLs), as a deployment would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest

from helioscope import Settings
from helioscope.egress import EgressPolicy
from helioscope.store import notifications
from helioscope.testing import FakeProvider
from tests.gateway.clients import PROVIDER_KEY, stored
from tests.gateway.test_headers import CHAT
from tests.running import Running, running

ANSWER = orjson.dumps({"id": "local", "object": "chat.completion", "choices": []})


@asynccontextmanager
async def local_service() -> AsyncIterator[tuple[str, list[bytes]]]:
    """An HTTP service on loopback (an admin port, Ollama, a metadata stand-in) that answers
    every request with a JSON body; yields its URL and the requests it got."""
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            writer.close()
            return
        seen.append(head)
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.lower().split(b"\r\n")
                if b"length:" in line
            ),
            0,
        )
        await reader.readexactly(length)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n%s" % (len(ANSWER), ANSWER)
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", seen
    finally:
        server.close()


async def through_gateway(hs: Running, target: str, **headers: str) -> httpx.Response:
    return await hs.client.post(
        "/gateway/v1/chat/completions",
        json=CHAT,
        headers={
            "authorization": f"Bearer {PROVIDER_KEY}",
            "helicone-auth": f"Bearer {hs.key}",
            "helicone-target-url": target,
            **headers,
        },
    )


def assert_refused(response: httpx.Response, address: str) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["data"] is None
    assert address in body["error"]
    assert "HELIOSCOPE_ALLOWED_PRIVATE_TARGETS" in body["error"]


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("localhost", "loopback"),  # a name: refused on the address it resolves to
    ],
)
async def test_a_loopback_target_is_refused_and_never_connected(
    helioscope: Running, host: str, reason: str
) -> None:
    async with local_service() as (url, seen):
        target = url.replace("127.0.0.1", host)
        response = await through_gateway(helioscope, target)
        assert_refused(response, "127.0.0.1")
        assert reason in response.json()["error"]
        assert seen == []  # not a byte reached the service
        row = await stored(helioscope, response.headers["helicone-id"])
    assert row["status"] == 403


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://169.254.169.254", "link-local"),  # cloud metadata
        ("http://10.1.2.3:8080", "private"),
        ("http://192.168.0.10", "private"),
        ("http://[::1]:9", "loopback"),
        ("http://[::ffff:127.0.0.1]:9", "loopback"),
        ("http://224.0.0.1", "multicast"),
        ("http://0.0.0.0:9", "unspecified"),
    ],
)
async def test_private_link_local_multicast_targets_are_refused(
    helioscope: Running, target: str, reason: str
) -> None:
    response = await through_gateway(helioscope, target)
    assert response.status_code == 403, response.text
    assert reason in response.json()["error"]


async def test_a_fallback_to_a_private_target_is_refused(
    helioscope: Running, fake: FakeProvider
) -> None:
    async with local_service() as (url, seen):
        fallbacks = [{"target-url": url, "headers": {}, "onCodes": [{"from": 400, "to": 599}]}]
        response = await through_gateway(
            helioscope,
            fake.url,
            **{"x-fake-status": "500", "helicone-fallbacks": orjson.dumps(fallbacks).decode()},
        )
        assert_refused(response, "127.0.0.1")
        assert seen == []


async def test_the_allow_list_and_configured_origins_may_be_private(
    settings: Settings, fake: FakeProvider
) -> None:
    async with local_service() as (url, seen):
        allowed = settings.model_copy(update={"allowed_private_targets": f" {url} ,"})
        async with running(allowed) as hs:
            response = await through_gateway(hs, url)  # listed
            configured = await through_gateway(hs, fake.url)  # a provider base URL
    assert response.status_code == 200, response.text
    assert response.content == ANSWER
    assert len(seen) == 1
    assert configured.status_code == 200


async def test_this_server_itself_is_refused() -> None:
    """On any of its own addresses and its port, even one that would otherwise pass."""
    policy = EgressPolicy(server_port=8585)
    refusal = policy.refusal("helioscope.example", 8585, "127.0.0.1")
    assert refusal is not None
    assert "this server itself" in refusal
    assert policy.refusal("api.openai.com", 443, "162.159.140.245") is None
    allowed = EgressPolicy(["http://localhost:11434", "http://127.0.0.1:*"])
    assert allowed.allows_origin("localhost", 11434)
    assert allowed.allows_origin("127.0.0.1", 9)
    assert not allowed.allows_origin("localhost", 11435)


@pytest.fixture
def webhook_settings(settings: Settings) -> Settings:
    # Plain http to loopback receivers, as the webhook tests use; the egress policy still
    # applies (nothing is on its allow list).
    return settings.model_copy(update={"webhook_allow_http_loopback": True})


async def webhook_post(hs: Running, path: str, body: Any = None) -> httpx.Response:
    return await hs.client.post(path, json=body, headers=hs.auth())


@pytest.mark.parametrize(
    "destination",
    ["https://169.254.169.254/latest", "https://10.0.0.7/hook", "https://127.0.0.1:9/hook"],
)
async def test_webhooks_to_private_destinations_are_refused(
    webhook_settings: Settings, destination: str
) -> None:
    async with running(webhook_settings) as hs:
        response = await webhook_post(hs, "/v1/webhooks", {"destination": destination})
    assert response.status_code == 403, response.text
    assert response.json()["data"] is None
    assert destination.split("/")[2].split(":")[0] in response.json()["error"]


async def test_a_stored_private_webhook_is_refused_by_test_and_never_delivered(
    webhook_settings: Settings,
) -> None:
    async with local_service() as (url, seen), running(webhook_settings) as hs:
        # Stored as an older server would have let it be (or under a name that moved).
        hook = await hs.services.store.org(hs.org_id).write(
            notifications.create_webhook, url + "/hook", {}
        )
        hs.services.started.webhooks.invalidate()
        response = await webhook_post(hs, f"/v1/webhooks/{hook['id']}/test")
        await hs.client.post(  # a logged call, offered to the webhook
            "/oai/v1/chat/completions",
            json=CHAT,
            headers={"authorization": f"Bearer {PROVIDER_KEY}", **hs.auth()},
        )
        await hs.flush()
        await asyncio.wait_for(hs.services.started.webhooks.idle(), 10)
    assert_refused(response, "127.0.0.1")
    assert seen == []
