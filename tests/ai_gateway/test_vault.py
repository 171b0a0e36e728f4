"""Helicone's Vault, provider-key and proxy-key routes: shapes, scopes, encryption, proxy keys."""

from __future__ import annotations

from helioscope import Settings
from helioscope.store import keys
from helioscope.testing import FakeProvider
from helioscope.vault import Cipher
from tests.ai_gateway.conftest import in_process
from tests.conftest import Running

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}


async def test_vault_routes_in_helicones_shapes(api: Running) -> None:
    http = api.client
    added = await http.post(
        "/v1/vault/add",
        json={"key": "sk-live-1", "provider": "openai", "name": "prod"},
        headers=api.auth(),
    )
    assert added.status_code == 200
    assert added.json()["error"] is None
    key_id = added.json()["data"]["id"]
    listed = (await http.get("/v1/vault/keys", headers=api.auth())).json()
    assert listed == {
        "data": [
            {
                "id": key_id,
                "org_id": api.org_id,
                "provider_key": "sk-live-1",
                "provider_name": "openai",
                "provider_key_name": "prod",
            }
        ],
        "error": None,
    }
    one = await http.get(f"/v1/vault/key/{key_id}", headers=api.auth())
    assert one.json()["data"]["provider_key"] == "sk-live-1"
    patched = await http.patch(
        f"/v1/vault/update/{key_id}",
        json={"key": "sk-live-2", "name": "rotated"},
        headers=api.auth(),
    )
    assert patched.json() == {"data": None, "error": None}
    again = (await http.get(f"/v1/vault/key/{key_id}", headers=api.auth())).json()["data"]
    assert (again["provider_key"], again["provider_key_name"]) == ("sk-live-2", "rotated")
    missing = await http.get("/v1/vault/key/no-such-key", headers=api.auth())
    assert (missing.status_code, missing.json()) == (
        404,
        {"data": None, "error": "Provider key not found"},
    )


async def test_provider_key_routes_in_helicones_shapes(api: Running) -> None:
    http = api.client
    created = await http.post(
        "/v1/api-keys/provider-key",
        json={
            "providerName": "azure",
            "providerKey": "az-secret",
            "providerKeyName": "azure east",
            "config": {"baseUri": "https://east.openai.azure.com", "deploymentName": "gpt4o"},
        },
        headers=api.auth(),
    )
    key_id = created.json()["id"]
    assert set(created.json()) == {"id"}
    listed = (await http.get("/v1/api-keys/provider-keys", headers=api.auth())).json()
    assert len(listed) == 1 and "az-secret" not in str(listed)  # the list never shows keys
    row = listed[0]
    assert (row["id"], row["provider_name"], row["provider_key_name"]) == (
        key_id,
        "azure",
        "azure east",
    )
    assert row["config"]["deploymentName"] == "gpt4o" and row["soft_delete"] is False
    shown = (await http.get(f"/v1/api-keys/provider-key/{key_id}", headers=api.auth())).json()
    assert shown["provider_key"] == "az-secret"
    updated = await http.patch(
        f"/v1/api-keys/provider-key/{key_id}",
        json={"providerKey": "az-rotated", "config": {"baseUri": "https://west.openai.azure.com"}},
        headers=api.auth(),
    )
    assert updated.json() == {"id": key_id}
    shown = (await http.get(f"/v1/api-keys/provider-key/{key_id}", headers=api.auth())).json()
    assert shown["provider_key"] == "az-rotated"
    deleted = await http.delete(f"/v1/api-keys/provider-key/{key_id}", headers=api.auth())
    assert deleted.json() == {"id": key_id, "providerName": "azure"}
    gone = await http.get(f"/v1/api-keys/provider-key/{key_id}", headers=api.auth())
    assert gone.status_code == 404


async def test_only_an_all_scopes_key_may_manage_or_read_provider_keys(api: Running) -> None:
    store = api.services.store
    reader = (await store.org(api.org_id).write(keys.create_api_key, "r", "r")).key
    writer = (await store.org(api.org_id).write(keys.create_api_key, "w", "w")).key
    key_id = (
        await api.client.post(
            "/v1/vault/add", json={"key": "sk-x", "provider": "openai"}, headers=api.auth()
        )
    ).json()["data"]["id"]
    routes = [
        ("GET", "/v1/vault/keys", None),
        ("GET", f"/v1/vault/key/{key_id}", None),
        ("POST", "/v1/vault/add", {"key": "k", "provider": "openai"}),
        ("PATCH", f"/v1/vault/update/{key_id}", {"name": "n"}),
        ("GET", "/v1/api-keys/provider-keys", None),
        ("GET", f"/v1/api-keys/provider-key/{key_id}", None),
        ("DELETE", f"/v1/api-keys/provider-key/{key_id}", None),
        ("POST", "/v1/api-keys/proxy-key", {"providerKeyId": key_id, "proxyKeyName": "p"}),
    ]
    for method, path, body in routes:
        for key in (reader, writer):
            response = await api.client.request(method, path, json=body, headers=api.auth(key))
            assert response.status_code == 403, (method, path, response.text)
            assert "sk-x" not in response.text
        anonymous = await api.client.request(method, path, json=body)
        assert anonymous.status_code == 401


async def test_another_organizations_keys_are_not_found(api: Running) -> None:
    key_id = (
        await api.client.post(
            "/v1/vault/add", json={"key": "sk-a", "provider": "openai"}, headers=api.auth()
        )
    ).json()["data"]["id"]
    other = await api.services.store.write(keys.get_or_create_org, "globex")
    other_key = (await api.services.store.org(other.id).write(keys.create_api_key)).key
    for path in (f"/v1/vault/key/{key_id}", f"/v1/api-keys/provider-key/{key_id}"):
        response = await api.client.get(path, headers=api.auth(other_key))
        assert response.status_code == 404
    listed = await api.client.get("/v1/vault/keys", headers=api.auth(other_key))
    assert listed.json()["data"] == []


async def test_bad_provider_key_input_is_a_400(api: Running) -> None:
    cases = [
        ("/v1/vault/add", {"key": "k", "provider": "nowhere"}, "unknown provider 'nowhere'"),
        ("/v1/vault/add", {"provider": "openai"}, "key"),
        ("/v1/vault/add", {"key": "", "provider": "openai"}, "key"),
        ("/v1/api-keys/provider-key", {"providerName": "openai"}, "providerKey"),
        ("/v1/api-keys/proxy-key", {"providerKeyId": "nope", "proxyKeyName": "p"}, "not found"),
    ]
    for path, body, problem in cases:
        response = await api.client.post(path, json=body, headers=api.auth())
        assert 400 <= response.status_code < 500 and problem in response.json()["error"], (
            body,
            response.text,
        )


async def test_a_custom_provider_needs_a_base_url(api: Running) -> None:
    body = {
        "providerName": "my-vllm",
        "providerKey": "k",
        "providerKeyName": "local",
        "config": {"baseUrl": "http://127.0.0.1:8000"},
    }
    assert (
        await api.client.post("/v1/api-keys/provider-key", json=body, headers=api.auth())
    ).status_code == 200


async def test_proxy_keys_stand_for_their_provider_key(api: Running, fake: FakeProvider) -> None:
    key_id = (
        await api.client.post(
            "/v1/vault/add",
            json={"key": "sk-bound-openai", "provider": "openai"},
            headers=api.auth(),
        )
    ).json()["data"]["id"]
    made = await api.client.post(
        "/v1/api-keys/proxy-key",
        json={"providerKeyId": key_id, "proxyKeyName": "team-a"},
        headers=api.auth(),
    )
    proxy = made.json()
    assert proxy["proxyKey"].startswith("sk-helicone-proxy-")
    assert proxy["proxyKey"].endswith(proxy["proxyKeyId"])
    # The proxy key alone, in Authorization, on the classic OpenAI route and on the AI Gateway.
    classic = await api.client.post(
        "/oai/v1/chat/completions", json=CHAT, headers=api.auth(proxy["proxyKey"])
    )
    assert classic.status_code == 200, classic.text
    assert fake.last.headers["authorization"] == "Bearer sk-bound-openai"
    ai = await api.client.post(
        "/v1/chat/completions", json=CHAT, headers=api.auth(proxy["proxyKey"])
    )
    assert ai.status_code == 200, ai.text
    assert fake.last.headers["authorization"] == "Bearer sk-bound-openai"
    # It is a write-scoped key: it cannot read the API.
    reading = await api.client.post(
        "/v1/request/query", json={}, headers=api.auth(proxy["proxyKey"])
    )
    assert reading.status_code == 403
    # Deleting its provider key revokes it.
    await api.client.delete(f"/v1/api-keys/provider-key/{key_id}", headers=api.auth())
    after = await api.client.post(
        "/v1/chat/completions", json=CHAT, headers=api.auth(proxy["proxyKey"])
    )
    assert after.status_code == 401


async def test_without_a_server_secret_keys_cannot_be_stored(settings: Settings) -> None:
    async with in_process(settings.model_copy(update={"secret_key": None})) as api:
        response = await api.client.post(
            "/v1/vault/add", json={"key": "sk-x", "provider": "openai"}, headers=api.auth()
        )
    assert response.status_code == 503
    assert "HELIOSCOPE_SECRET_KEY" in response.json()["error"]


def test_sealed_keys_open_only_under_their_secret_organization_and_id() -> None:
    cipher = Cipher("one secret that is long enough")
    sealed = cipher.seal("sk-clear", "org-1", "key-1")
    assert b"sk-clear" not in sealed
    assert cipher.open(sealed, "org-1", "key-1") == "sk-clear"
    assert cipher.open(sealed, "org-2", "key-1") is None  # moved to another organization
    assert cipher.open(sealed, "org-1", "key-2") is None  # moved to another key's row
    assert Cipher("another secret, long enough").open(sealed, "org-1", "key-1") is None
    assert cipher.seal("sk-clear", "org-1", "key-1") != sealed  # a fresh nonce each time
