"""``GET /v1/models``: the registry in Helicone's shape, readable by OpenAI's SDK too."""

from __future__ import annotations

import pytest

from helioscope.store import keys
from tests.ai_gateway.conftest import ai_client
from tests.conftest import Running

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine


async def test_the_registry_in_helicones_shape(api: Running) -> None:
    body = (await api.client.get("/v1/models", headers=api.auth())).json()
    assert body["error"] is None
    models = {entry["model"]: entry for entry in body["data"]}
    assert {"gpt-4o-mini", "claude-sonnet-4", "gemini-2.5-flash"} <= set(models)
    entry = models["claude-sonnet-4"]
    assert entry == {
        "model": "claude-sonnet-4",
        "id": "claude-sonnet-4",
        "object": "model",
        "created": entry["created"],
        "owned_by": "anthropic",
    }


async def test_an_organizations_own_models_are_listed(api: Running) -> None:
    await api.client.post(
        "/v1/api-keys/provider-key",
        json={
            "providerName": "ollama",
            "providerKey": "none",
            "providerKeyName": "laptop",
            "config": {"baseUrl": "http://127.0.0.1:11434", "models": "llama3.2, qwen2.5"},
        },
        headers=api.auth(),
    )
    mine = (await api.client.get("/v1/models", headers=api.auth())).json()["data"]
    own = {m["model"]: m["owned_by"] for m in mine if m["owned_by"] == "ollama"}
    assert own == {"llama3.2": "ollama", "qwen2.5": "ollama"}
    other = await api.services.store.write(keys.get_or_create_org, "globex")
    their_key = (await api.services.store.org(other.id).write(keys.create_api_key, "p", "w")).key
    theirs = (await api.client.get("/v1/models", headers=api.auth(their_key))).json()["data"]
    assert "llama3.2" not in [m["model"] for m in theirs]  # a write-only key may list too
    for headers in ({}, api.auth("sk-helicone-wrong")):
        assert (await api.client.get("/v1/models", headers=headers)).status_code == 401


async def test_openai_sdk_lists_the_models(helioscope: Running) -> None:
    async with ai_client(helioscope) as client:
        ids = [model.id async for model in client.models.list()]
    assert "gpt-4o-mini" in ids
