"""The ``Prompt`` routes end to end, bad input included, on both engines."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import Running
from tests.prompts.api import Api

# These routes read the log: they run with it in ClickHouse too (tests/conftest.py).
pytestmark = pytest.mark.clickhouse

TEMPLATE = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "user", "content": 'Tell me about <helicone-prompt-input key="topic" />.'},
        {"role": "user", "content": "In {{hc:n:number}} words."},
    ],
}


@pytest.fixture
async def api(helioscope: Running) -> AsyncIterator[Api]:
    client = Api(helioscope)
    yield client
    await client.aclose()


async def _create(api: Api, user_defined_id: str = "story") -> dict[str, Any]:
    body = {"userDefinedId": user_defined_id, "prompt": TEMPLATE, "metadata": {"team": "x"}}
    created: dict[str, Any] = await api.call("POST", "/v1/prompt/create", body)
    return created


async def test_create_query_and_get(api: Api) -> None:
    created = await _create(api)
    assert (
        await api.call(
            "POST",
            "/v1/prompt/create",
            {"userDefinedId": "story", "prompt": TEMPLATE, "metadata": {}},
            status=400,
        )
        == "a prompt with userDefinedId 'story' already exists"
    )
    await _create(api, "other")
    listed = await api.call("POST", "/v1/prompt/query", {"filter": "all"})
    assert [p["user_defined_id"] for p in listed] == ["other", "story"]
    only = await api.call(
        "POST",
        "/v1/prompt/query",
        {"filter": {"prompt_v2": {"user_defined_id": {"equals": "story"}}}},
    )
    assert [p["id"] for p in only] == [created["id"]]
    assert only[0]["major_version"] == 0 and only[0]["metadata"]["createdFromUi"] is True
    bad = await api.call(
        "POST", "/v1/prompt/query", {"filter": {"prompt_v2": {"nope": {"equals": 1}}}}, status=400
    )
    assert "filter.prompt_v2.nope" in bad
    prompt = await api.call("POST", f"/v1/prompt/{created['id']}/query", {})
    assert prompt["versions"] == [created["prompt_version_id"]]
    assert prompt["latest_version_id"] == created["prompt_version_id"]
    assert prompt["latest_model_used"] == "gpt-4o-mini"
    version = await api.call("GET", f"/v1/prompt/version/{created['prompt_version_id']}")
    assert json.loads(version["helicone_template"]) == TEMPLATE
    assert version["metadata"] == {"isProduction": True}
    assert version["prompt_v2"] == created["id"]


async def test_unknown_ids_are_404(api: Api) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    calls: list[tuple[str, str, Any]] = [
        ("POST", f"/v1/prompt/{missing}/query", {}),
        ("DELETE", f"/v1/prompt/{missing}", None),
        ("GET", f"/v1/prompt/version/{missing}", None),
        ("DELETE", f"/v1/prompt/version/{missing}", None),
        ("POST", f"/v1/prompt/version/{missing}/promote", {"previousProductionVersionId": "x"}),
        ("POST", f"/v1/prompt/version/{missing}/edit-label", {"label": "x"}),
        ("POST", f"/v1/prompt/version/{missing}/inputs/query", {"limit": 5}),
        ("POST", f"/v1/prompt/{missing}/versions/query", {}),
        ("GET", f"/v1/prompt/{missing}/experiments", None),
        ("POST", "/v1/prompt/nope/compile", {"inputs": {}}),
        ("POST", "/v1/prompt/nope/template", {"inputs": {}}),
    ]
    for method, path, body in calls:
        error = await api.call(method, path, body, status=404)
        assert "not found" in error


async def test_versions_labels_templates_promote_and_delete(api: Api) -> None:
    created = await _create(api)
    first = created["prompt_version_id"]
    base = f"/v1/prompt/version/{first}"
    minor = await api.call("POST", f"{base}/subversion", {"newHeliconeTemplate": {"v": 1}})
    assert (minor["major_version"], minor["minor_version"]) == (0, 1)
    assert minor["parent_prompt_version"] == first
    major = await api.call(
        "POST",
        f"{base}/subversion-from-ui",
        {"newHeliconeTemplate": {"model": "m2"}, "isMajorVersion": True, "metadata": {"a": 1}},
    )
    assert (major["major_version"], major["minor_version"], major["model"]) == (1, 0, "m2")
    label = await api.call(
        "POST", f"/v1/prompt/version/{minor['id']}/edit-label", {"label": "candidate"}
    )
    assert label == {"metadata": {"label": "candidate"}}
    await api.call(
        "POST", f"/v1/prompt/version/{minor['id']}/edit-template", {"heliconeTemplate": {"v": 2}}
    )
    edited = await api.call("GET", f"/v1/prompt/version/{minor['id']}")
    assert json.loads(edited["helicone_template"]) == {"v": 2}
    error = await api.call("DELETE", base, status=400)
    assert "production version and cannot be deleted" in error
    promoted = await api.call(
        "POST", f"/v1/prompt/version/{major['id']}/promote", {"previousProductionVersionId": first}
    )
    assert promoted["metadata"]["isProduction"] is True
    versions = await api.call("POST", f"/v1/prompt/{created['id']}/versions/query", {})
    assert [(v["major_version"], v["minor_version"]) for v in versions] == [(1, 0), (0, 1), (0, 0)]
    assert [v["id"] for v in versions if v["metadata"].get("isProduction")] == [major["id"]]
    only_major_0 = await api.call(
        "POST",
        f"/v1/prompt/{created['id']}/versions/query",
        {"filter": {"prompts_versions": {"major_version": {"equals": 0}}}},
    )
    assert len(only_major_0) == 2
    assert await api.call("DELETE", base) is None
    await api.call("GET", base, status=404)
    assert await api.call("GET", f"/v1/prompt/{created['id']}/experiments") == []  # none yet
    await api.call("DELETE", f"/v1/prompt/{created['id']}", status=204)
    await api.call("POST", f"/v1/prompt/{created['id']}/query", {}, status=404)


async def test_compile_and_template_fill_the_production_version(api: Api) -> None:
    await _create(api)
    compiled = await api.call(
        "POST", "/v1/prompt/story/compile", {"inputs": {"topic": "cats", "n": 0}}
    )
    messages = compiled["prompt_compiled"]["messages"]
    assert [m["content"] for m in messages] == ["Tell me about cats.", "In 0 words."]
    partial = await api.call("POST", "/v1/prompt/story/compile", {"inputs": {}})
    assert partial["prompt_compiled"] == TEMPLATE  # missing inputs stay in place
    wrong = await api.call(
        "POST", "/v1/prompt/story/compile", {"inputs": {"n": "many"}}, status=400
    )
    assert wrong == "variable 'n' expects a number, got 'many'"
    filled = await api.call("POST", "/v1/prompt/story/template", {"inputs": {"topic": "dogs"}})
    assert filled["filled_helicone_template"]["messages"][0]["content"] == "Tell me about dogs."
    assert filled["major_version"] == 0


async def test_another_organization_sees_nothing(helioscope: Running, api: Api) -> None:
    created = await _create(api)
    _, other_key = await helioscope.add_org("rival")
    other = Api(helioscope, other_key)
    try:
        assert await other.call("POST", "/v1/prompt/query", {"filter": "all"}) == []
        await other.call("GET", f"/v1/prompt/version/{created['prompt_version_id']}", status=404)
        await other.call("DELETE", f"/v1/prompt/{created['id']}", status=404)
    finally:
        await other.aclose()


async def test_rename_user_defined_id(api: Api) -> None:
    created = await _create(api)
    await _create(api, "taken")
    path = f"/v1/prompt/{created['id']}/user-defined-id"
    await api.call("PATCH", path, {"userDefinedId": "taken"}, status=400)
    await api.call("PATCH", path, {"userDefinedId": "renamed"})
    prompt = await api.call("POST", f"/v1/prompt/{created['id']}/query", {})
    assert prompt["user_defined_id"] == "renamed"
