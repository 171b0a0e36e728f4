"""Provider keys and proxy keys made through one worker of ``serve --workers`` work at once
through another, whose cache of the organization's keys was loaded before they existed (the
change counter tells it only at its next poll)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asgi_lifespan import LifespanManager

from helioscope import create_app
from helioscope.services import Services
from helioscope.testing import FakeProvider
from tests.ai_gateway.conftest import ANTHROPIC_KEY, OPENAI_KEY, store_key
from tests.conftest import Running

CHAT = {"model": "gpt-4o-mini/openai", "messages": [{"role": "user", "content": "hello"}]}
CLAUDE = {"model": "claude-sonnet-4/anthropic", "messages": [{"role": "user", "content": "hi"}]}


@asynccontextmanager
async def _other_worker(hs: Running) -> AsyncIterator[Running]:
    """Another server on the same store, which hears of no change through the counter."""
    app = create_app(hs.replica_settings())
    services: Services = app.state.services
    services.changes.interval = 3600.0  # it reads the counter once, at start
    async with LifespanManager(app, startup_timeout=None, shutdown_timeout=None):
        other = Running(None, services, hs.org_id, hs.key, app=app)
        try:
            yield other
        finally:
            await other.aclose()


async def _chat(hs: Running, path: str, body: object, key: str | None = None) -> int:
    answer = await hs.client.post(path, json=body, headers=hs.auth(key))
    assert answer.status_code in (200, 400, 401), answer.text
    return answer.status_code


async def test_a_proxy_key_made_through_one_worker_works_at_once_through_another(
    api: Running, fake: FakeProvider
) -> None:
    key_id = await store_key(api, "openai", OPENAI_KEY)
    async with _other_worker(api) as other:
        assert await _chat(other, "/v1/chat/completions", CHAT) == 200  # its keys, cached
        # Each refused as "this proxy key's provider key was deleted" until the next poll.
        for path in ("/oai/v1/chat/completions", "/v1/chat/completions"):
            made = await api.client.post(
                "/v1/api-keys/proxy-key",
                json={"providerKeyId": key_id, "proxyKeyName": path},
                headers=api.auth(),
            )
            assert await _chat(other, path, CHAT, made.json()["proxyKey"]) == 200
        assert fake.last.headers["authorization"] == f"Bearer {OPENAI_KEY}"


async def test_a_provider_key_added_through_one_worker_works_at_once_through_another(
    api: Running,
) -> None:
    await store_key(api, "anthropic", ANTHROPIC_KEY)
    async with _other_worker(api) as other:
        assert await _chat(other, "/v1/chat/completions", CLAUDE) == 200  # its keys, cached
        await store_key(api, "openai", OPENAI_KEY)
        # Refused as "this organization has no provider key for openai" until the next poll.
        assert await _chat(other, "/v1/chat/completions", CHAT) == 200
