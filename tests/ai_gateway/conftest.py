"""The AI Gateway under test: a server with a vault secret, and keys stored through the API.

Every provider is the fake provider: OpenAI, Anthropic and Gemini at ``fake.url`` (the
server's base-URL settings), other providers at a ``config.baseUrl`` given with their key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from openai import AsyncOpenAI
from pydantic import SecretStr

from helioscope import Settings, create_app
from helioscope.services import Services
from helioscope.store import keys
from helioscope.testing import FakeProvider
from tests.conftest import Running

SECRET = "test-secret-key-for-the-vault-0123456789"
OPENAI_KEY = "sk-openai-stored-ABC123"
ANTHROPIC_KEY = "sk-ant-stored-DEF456"
GEMINI_KEY = "AIza-gemini-stored-GHI789"


@pytest.fixture
def settings(settings: Settings, fake: FakeProvider) -> Settings:
    """The base settings with a vault secret, and Gemini at the fake provider too."""
    update = {"secret_key": SecretStr(SECRET), "google_base_url": fake.url}
    return settings.model_copy(update=update)


async def store_key(
    hs: Running, provider: str, key: str, config: dict[str, str] | None = None
) -> str:
    """Store a provider key through Helicone's provider-key route; its id."""
    async with httpx.AsyncClient(base_url=hs.url) as http:
        response = await http.post(
            "/v1/api-keys/provider-key",
            json={
                "providerName": provider,
                "providerKey": key,
                "providerKeyName": f"{provider} key",
                "config": config or {},
            },
            headers={"authorization": f"Bearer {hs.key}"},
        )
    assert response.status_code == 200, response.text
    key_id: str = response.json()["id"]
    return key_id


@pytest.fixture
async def keyed(helioscope: Running) -> Running:
    """The server with OpenAI, Anthropic and Gemini keys stored for its organization."""
    await store_key(helioscope, "openai", OPENAI_KEY)
    await store_key(helioscope, "anthropic", ANTHROPIC_KEY)
    await store_key(helioscope, "google", GEMINI_KEY)
    return helioscope


def ai_client(hs: Running, *, root: bool = False, **headers: str) -> AsyncOpenAI:
    """OpenAI's SDK pointed at the gateway root (``/v1``, or the bare root) with only our key."""
    return AsyncOpenAI(
        base_url=hs.url if root else f"{hs.url}/v1",
        api_key=hs.key,
        max_retries=0,
        default_headers=headers or None,
    )


@pytest.fixture
async def other_fake() -> AsyncIterator[FakeProvider]:
    """A second fake provider: a generic OpenAI-compatible upstream at its own address."""
    provider = FakeProvider()
    async with provider.run():
        yield provider


def json_of(value: Any) -> Any:
    """A pydantic model (SDK object) as plain JSON data."""
    return value.model_dump(mode="json", exclude_none=True)


@dataclass
class InProcess:
    """The app in this process (no socket), its services, one organization and an rw key."""

    http: httpx.AsyncClient
    services: Services
    org_id: str
    key: str

    def auth(self, key: str | None = None) -> dict[str, str]:
        """The Authorization header for ``key`` (default: the rw key)."""
        return {"authorization": f"Bearer {key or self.key}"}


@asynccontextmanager
async def in_process(settings: Settings) -> AsyncIterator[InProcess]:
    """The app with its lifespan running, reached through httpx's ASGI transport."""
    app = create_app(settings)
    services: Services = app.state.services
    async with app.router.lifespan_context(app):
        org = await services.store.write(keys.get_or_create_org, "acme")
        key = await services.store.org(org.id).write(keys.create_api_key)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://helioscope") as http:
            yield InProcess(http, services, org.id, key.key)


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[InProcess]:
    """The app in this process, with a vault secret."""
    async with in_process(settings) as running:
        yield running
