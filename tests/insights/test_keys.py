"""API keys over HTTP: create, list, rename, revoke, and scopes enforced on every surface."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import openai
import pytest

from helioscope.store import hash_api_key, keys
from tests.api.test_asynclog import log_body
from tests.cli.runner import helioscope as helioscope_cli
from tests.conftest import Running
from tests.gateway.clients import PROVIDER_KEY, openai_client
from tests.insights.seed import call, data, post, window


async def create(hs: Running, permissions: str | None, key: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"api_key_name": f"k-{permissions}"}
    if permissions is not None:
        body["key_permissions"] = permissions
    response = await post(hs, "/v1/api-keys", body, key)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    assert set(created) == {"id", "apiKey"} and created["apiKey"].startswith("sk-helicone-")
    return created


async def can_proxy(hs: Running, key: str) -> int:
    async with hs.http() as http:
        response = await http.post(
            "/oai/v1/chat/completions",
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": f"Bearer {PROVIDER_KEY}", "helicone-auth": f"Bearer {key}"},
        )
    return response.status_code


async def statuses(hs: Running, key: str) -> dict[str, int]:
    """What a key may do: read the API, proxy, and log through both log routes."""
    read = await post(hs, "/v1/metrics/totalRequests", {"timeFilter": window()}, key)
    typed_log = await post(hs, "/v1/trace/custom/log", log_body(), key)
    worker_log = await post(hs, "/custom/v1/log", log_body(), key)
    manage = await call(hs, "GET", "/v1/api-keys", key=key)
    return {
        "read": read.status_code,
        "proxy": await can_proxy(hs, key),
        "log": typed_log.status_code,
        "worker_log": worker_log.status_code,
        "manage": manage.status_code,
    }


async def test_scopes_are_enforced_everywhere(helioscope: Running) -> None:
    everything = (await create(helioscope, None))["apiKey"]
    read_only = (await create(helioscope, "r"))["apiKey"]
    write_only = (await create(helioscope, "w"))["apiKey"]
    assert await statuses(helioscope, everything) == {
        "read": 200,
        "proxy": 200,
        "log": 204,
        "worker_log": 200,
        "manage": 200,
    }
    assert await statuses(helioscope, read_only) == {
        "read": 200,
        "proxy": 403,
        "log": 403,
        "worker_log": 403,
        "manage": 403,
    }
    assert await statuses(helioscope, write_only) == {
        "read": 403,
        "proxy": 200,
        "log": 204,
        "worker_log": 200,
        "manage": 403,
    }
    response = await post(helioscope, "/v1/request/query", {"filter": "all"}, write_only)
    assert response.status_code == 403
    assert "scope" in response.json()["error"] and response.json()["data"] is None


async def test_a_write_only_key_proxies_with_the_openai_sdk(helioscope: Running) -> None:
    write_only = (await create(helioscope, "w"))["apiKey"]
    read_only = (await create(helioscope, "r"))["apiKey"]
    async with openai_client(helioscope, **{"Helicone-Auth": f"Bearer {write_only}"}) as client:
        reply = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert reply.choices[0].message.content
    async with openai_client(helioscope, **{"Helicone-Auth": f"Bearer {read_only}"}) as client:
        with pytest.raises(openai.PermissionDeniedError):
            await client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )


async def test_list_rename_delete(helioscope: Running) -> None:
    created = await create(helioscope, "r")
    listed = data(await call(helioscope, "GET", "/v1/api-keys"))
    mine = [k for k in listed if str(k["id"]) == created["id"]]
    assert mine and mine[0]["key_permissions"] == "r" and mine[0]["api_key_name"] == "k-r"
    # Helicone lists the stored SHA-256 of each key, never the key itself.
    assert mine[0]["api_key_hash"] == hashlib.sha256(created["apiKey"].encode()).hexdigest()
    assert (mine[0]["temp_key"], mine[0]["governance"], mine[0]["user_id"]) == (False, False, "")
    assert all(created["apiKey"] not in str(value) for k in listed for value in k.values())
    path = f"/v1/api-keys/{created['id']}"
    # Helicone's server answers a rename and a revocation with the key's hash, bare.
    renamed = await call(helioscope, "PATCH", path, {"api_key_name": "renamed"})
    assert renamed.status_code == 200
    assert renamed.json() == {"hashedKey": mine[0]["api_key_hash"]}
    listed = data(await call(helioscope, "GET", "/v1/api-keys"))
    assert [k["api_key_name"] for k in listed if str(k["id"]) == created["id"]] == ["renamed"]
    ok = await post(
        helioscope, "/v1/metrics/totalRequests", {"timeFilter": window()}, created["apiKey"]
    )
    assert ok.status_code == 200
    revoking = await call(helioscope, "DELETE", path)
    assert revoking.json() == {"hashedKey": mine[0]["api_key_hash"]}
    revoked = await post(
        helioscope, "/v1/metrics/totalRequests", {"timeFilter": window()}, created["apiKey"]
    )
    assert revoked.status_code == 401
    assert (await call(helioscope, "DELETE", path)).status_code == 404


async def test_another_organization_cannot_touch_my_keys(helioscope: Running) -> None:
    created = await create(helioscope, "rw")
    _, other_key = await helioscope.add_org("other")
    theirs = data(await call(helioscope, "GET", "/v1/api-keys", key=other_key))
    assert created["id"] not in [str(k["id"]) for k in theirs]
    path = f"/v1/api-keys/{created['id']}"
    renamed = await call(helioscope, "PATCH", path, {"api_key_name": "pwned"}, other_key)
    assert renamed.status_code == 404
    assert (await call(helioscope, "DELETE", path, key=other_key)).status_code == 404
    assert await can_proxy(helioscope, created["apiKey"]) == 200


@pytest.mark.parametrize(
    ("method", "path", "body", "named"),
    [
        (
            "POST",
            "/v1/api-keys",
            {"api_key_name": "x", "key_permissions": "admin"},
            "key_permissions",
        ),
        ("POST", "/v1/api-keys", {"api_key_name": ""}, "api_key_name"),
        ("PATCH", "/v1/api-keys/abc", {"api_key_name": "x"}, "apiKeyId"),
        ("PATCH", "/v1/api-keys/999999", {"api_key_name": "x"}, "999999"),
    ],
)
async def test_bad_key_requests(
    helioscope: Running, method: str, path: str, body: dict[str, Any], named: str
) -> None:
    response = await call(helioscope, method, path, body)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["data"] is None and named in response.json()["error"]


async def test_settings_query(helioscope: Running) -> None:
    response = await call(helioscope, "GET", "/v1/settings/query")
    assert response.status_code == 200
    assert response.json() == {"useAzureForExperiment": False}
    assert (await call(helioscope, "GET", "/v1/settings/query", key="sk-nope")).status_code == 401


@pytest.mark.parametrize(("scope", "stored"), [("read", "r"), ("write", "w"), ("all", "rw")])
async def test_cli_creates_scoped_keys(
    helioscope: Running, database_url: str, scope: str, stored: str
) -> None:
    # In this process (the CLI's own process is tested in tests/test_cli.py), in a thread: the
    # command runs an event loop of its own.
    ran = await asyncio.to_thread(
        helioscope_cli,
        *("keys", "create", "--org", "acme", "--scope", scope),
        env={"HELIOSCOPE_DATABASE_URL": database_url},
    )
    code, out, err = ran.code, ran.stdout.decode(), ran.stderr
    assert code == 0, err
    key = out.strip().splitlines()[-1]
    found = await helioscope.services.store.read(keys.find_api_key, hash_api_key(key))
    assert found is not None and found.permissions == stored
    assert found.organization_id == helioscope.org_id
    assert (await can_proxy(helioscope, key) == 200) == ("w" in stored)
