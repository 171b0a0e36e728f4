"""The ``/v1/prompt-2025`` routes end to end, Helicone's Python prompt manager included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from helicone_helpers import HeliconePromptManager

from tests.conftest import Running
from tests.prompts.api import Api

BODY = {
    "model": "gpt-4o-mini",
    "temperature": 0.3,
    "messages": [{"role": "system", "content": "You help {{hc:customer:string}}."}],
}
V1 = "/v1/prompt-2025"


@pytest.fixture
async def api(helioscope: Running) -> AsyncIterator[Api]:
    client = Api(helioscope)
    yield client
    await client.aclose()


async def _create(api: Api, name: str = "Support", tags: list[str] | None = None) -> Any:
    body = {"name": name, "tags": tags or ["support"], "promptBody": BODY}
    return await api.call("POST", V1, body, status=201)


async def test_create_version_environment_and_queries(api: Api, helioscope: Running) -> None:
    created = await _create(api)
    prompt_id, first = created["id"], created["versionId"]
    assert len(prompt_id) == 6 and prompt_id.isalnum()
    assert await api.call("GET", f"{V1}/id/{prompt_id}") == {
        "id": prompt_id,
        "name": "Support",
        "tags": ["support"],
        "created_at": (await api.call("GET", f"{V1}/id/{prompt_id}"))["created_at"],
    }
    update = {
        "promptId": prompt_id,
        "promptVersionId": first,
        "newMajorVersion": False,
        "commitMessage": "friendlier",
        "promptBody": {**BODY, "temperature": 0.9},
    }
    minor = (await api.call("POST", f"{V1}/update", update))["id"]
    major = (
        await api.call(
            "POST",
            f"{V1}/update",
            {**update, "promptVersionId": minor, "newMajorVersion": True, "environment": "staging"},
        )
    )["id"]
    versions = await api.call("POST", f"{V1}/query/versions", {"promptId": prompt_id})
    assert [(v["major_version"], v["minor_version"]) for v in versions] == [(1, 0), (0, 1), (0, 0)]
    assert [v["environments"] for v in versions] == [["staging"], [], ["production"]]
    assert versions[2]["commit_message"] == "First version."
    majors = await api.call(
        "POST", f"{V1}/query/versions", {"promptId": prompt_id, "majorVersion": 0}
    )
    assert len(majors) == 2
    counts = await api.call("POST", f"{V1}/query/total-versions", {"promptId": prompt_id})
    assert counts == {"totalVersions": 3, "majorVersions": 2}
    production = await api.call("POST", f"{V1}/query/production-version", {"promptId": prompt_id})
    assert production["id"] == first and production["model"] == "gpt-4o-mini"
    staging = await api.call(
        "POST",
        f"{V1}/query/environment-version",
        {"promptId": prompt_id, "environment": "staging"},
    )
    assert staging["id"] == major
    one = await api.call("POST", f"{V1}/query/version", {"promptVersionId": minor})
    assert (
        one["commit_message"] == "friendlier"
        and "prompt_body" not in one
        or not one.get("prompt_body")
    )
    inline = await api.call("POST", "/v2/prompt-2025/query/version", {"promptVersionId": minor})
    assert inline["prompt_body"]["temperature"] == 0.9
    # The body is served bare at `s3_url`, without credentials, as Helicone's signed URLs are.
    async with helioscope.http() as anonymous:
        fetched = await anonymous.get(one["s3_url"])
        assert fetched.status_code == 200 and fetched.json()["temperature"] == 0.9
        forged = await anonymous.get(one["s3_url"][:-4] + "abcd")
        assert forged.status_code == 404
    body = await api.call("GET", f"{V1}/{minor}/prompt-body")
    assert body["messages"] == BODY["messages"]
    # Promote the minor version: production moves in one step, the first can then be deleted.
    env = {"promptId": prompt_id, "promptVersionId": minor, "environment": "production"}
    await api.call("POST", f"{V1}/update/environment", env)
    production = await api.call("POST", f"{V1}/query/production-version", {"promptId": prompt_id})
    assert production["id"] == minor
    error = await api.call("DELETE", f"{V1}/{prompt_id}/{minor}", status=400)
    assert "production version" in error
    await api.call("DELETE", f"{V1}/{prompt_id}/{first}")
    await api.call("POST", f"{V1}/query/version", {"promptVersionId": first}, status=404)
    removal = {"promptId": prompt_id, "promptVersionId": major, "environment": "production"}
    assert "cannot be removed" in await api.call(
        "POST", f"{V1}/remove/environment", removal, status=400
    )
    await api.call("POST", f"{V1}/remove/environment", {**removal, "environment": "staging"})
    await api.call(
        "POST",
        f"{V1}/query/environment-version",
        {"promptId": prompt_id, "environment": "staging"},
        status=404,
    )
    assert await api.call("GET", f"{V1}/environments") == ["production"]


async def test_list_search_tags_rename_count_and_delete(api: Api) -> None:
    a = (await _create(api, "Support bot", ["support", "prod"]))["id"]
    b = (await _create(api, "Sales", ["sales"]))["id"]
    query = {"search": "", "tagsFilter": [], "page": 0, "pageSize": 10}
    assert [p["id"] for p in await api.call("POST", f"{V1}/query", query)] == [b, a]
    found = await api.call("POST", f"{V1}/query", {**query, "search": "SUPPORT"})
    assert [p["id"] for p in found] == [a]
    tagged = await api.call("POST", f"{V1}/query", {**query, "tagsFilter": ["sales"]})
    assert [p["id"] for p in tagged] == [b]
    paged = await api.call("POST", f"{V1}/query", {**query, "page": 1, "pageSize": 1})
    assert [p["id"] for p in paged] == [a]
    assert await api.call("GET", f"{V1}/tags") == ["prod", "sales", "support"]
    assert await api.call("GET", f"{V1}/count") == 2
    await api.call("POST", f"{V1}/id/{a}/rename", {"name": "Helper"})
    assert await api.call("PATCH", f"{V1}/id/{a}/tags", {"tags": ["x", "x", "y"]}) == ["x", "y"]
    assert (await api.call("GET", f"{V1}/id/{a}"))["name"] == "Helper"
    await api.call("DELETE", f"{V1}/{a}")
    await api.call("GET", f"{V1}/id/{a}", status=404)
    assert await api.call("GET", f"{V1}/count") == 1


async def test_bad_input(api: Api) -> None:
    prompt_id = (await _create(api))["id"]
    calls: list[tuple[str, str, Any]] = [
        ("GET", f"{V1}/id/nope00", None),
        ("POST", f"{V1}/query/version", {"promptVersionId": "nope"}),
        ("POST", f"{V1}/query/production-version", {"promptId": "nope00"}),
        ("POST", f"{V1}/query/versions", {"promptId": "nope00"}),
        ("DELETE", f"{V1}/nope00", None),
        ("DELETE", f"{V1}/{prompt_id}/nope", None),
        ("GET", f"{V1}/id/{prompt_id}/nope/inputs?requestId=r", None),
        ("GET", f"{V1}/nope/prompt-body", None),
    ]
    for method, path, body in calls:
        assert "not found" in await api.call(method, path, body, status=404)
    malformed = {"name": "x", "tags": [], "promptBody": {"messages": "not a list"}}
    assert "promptBody.messages" in await api.call("POST", V1, malformed, status=400)
    wrong_version = {
        "promptId": prompt_id,
        "promptVersionId": "00000000-0000-4000-8000-000000000000",
        "newMajorVersion": False,
        "commitMessage": "",
        "promptBody": BODY,
    }
    await api.call("POST", f"{V1}/update", wrong_version, status=404)


async def test_helicone_prompt_manager_compiles_a_stored_prompt(
    helioscope: Running, api: Api
) -> None:
    prompt_id = (await _create(api))["id"]
    manager = HeliconePromptManager(api_key=helioscope.key, base_url=helioscope.url)
    try:
        result = await manager.aget_prompt_body(
            {
                "prompt_id": prompt_id,
                "inputs": {"customer": "Ada"},
                "messages": [{"role": "user", "content": "hi"}],
            }
        )
    finally:
        await manager.aclose()
    assert result["errors"] == []
    assert [m["content"] for m in result["body"]["messages"]] == ["You help Ada.", "hi"]
    assert result["body"]["model"] == "gpt-4o-mini"
