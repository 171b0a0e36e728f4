"""``GET /v1/models``: the registry in Helicone's shape, readable by OpenAI's SDK too."""

from __future__ import annotations

from tests.ai_gateway.conftest import InProcess, ai_client
from tests.conftest import Running


async def test_the_registry_in_helicones_shape(api: InProcess) -> None:
    body = (await api.http.get("/v1/models")).json()
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


async def test_an_organizations_own_models_are_listed_with_its_key(api: InProcess) -> None:
    await api.http.post(
        "/v1/api-keys/provider-key",
        json={
            "providerName": "ollama",
            "providerKey": "none",
            "providerKeyName": "laptop",
            "config": {"baseUrl": "http://127.0.0.1:11434", "models": "llama3.2, qwen2.5"},
        },
        headers=api.auth(),
    )
    anonymous = [m["model"] for m in (await api.http.get("/v1/models")).json()["data"]]
    mine = (await api.http.get("/v1/models", headers=api.auth())).json()["data"]
    assert "llama3.2" not in anonymous
    own = {m["model"]: m["owned_by"] for m in mine if m["owned_by"] == "ollama"}
    assert own == {"llama3.2": "ollama", "qwen2.5": "ollama"}
    wrong = await api.http.get("/v1/models", headers=api.auth("sk-helicone-wrong"))
    assert wrong.status_code == 401


async def test_openai_sdk_lists_the_models(helioscope: Running) -> None:
    async with ai_client(helioscope) as client:
        ids = [model.id async for model in client.models.list()]
    assert "gpt-4o-mini" in ids
