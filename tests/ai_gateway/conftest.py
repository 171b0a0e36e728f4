"""The AI Gateway under test: a server with a vault secret, and keys stored through the API.

Every provider is the fake provider: OpenAI, Anthropic and Gemini at ``fake.url`` (the
server's base-URL settings), other providers at a ``config.baseUrl`` given with their key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from openai import AsyncOpenAI
from pydantic import SecretStr

from helioscope import Settings
from helioscope.testing import FakeProvider
from tests.conftest import Running
from tests.running import running

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
    async with hs.http() as http:
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


@asynccontextmanager
async def in_process(settings: Settings) -> AsyncIterator[Running]:
    """The app in this process (no socket): call it with ``client`` and ``auth()``."""
    async with running(settings) as hs:
        yield hs


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Running]:
    """The app in this process, with a vault secret."""
    async with in_process(settings) as hs:
        yield hs
