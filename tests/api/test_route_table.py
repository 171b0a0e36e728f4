"""The route table: every operation declares what it needs, and one check holds each to it.

These tests read the app's own OpenAPI document and the modules of ``helioscope.api``, so an
operation added anywhere (another branch's new module included) fails here until its router is
declared in ``helioscope.api.API``.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import Match

import helioscope.api
from helioscope import Settings, create_app
from helioscope.api import API, DECLARED, Need
from helioscope.api.access import SCOPE_EXTENSION, RawRoutes
from helioscope.api.deps import ApiKeyDep
from helioscope.app import HelioscopeApp
from tests.api.inprocess import InProcess, Org, fill, operations

# What a 403 says each need is missing.
SCOPE_WORDS = {
    Need.READ: "read scope",
    Need.WRITE: "write scope",
    Need.LOG: "write scope",
    Need.ALL: "every scope",
}
# Integer path parameters get a number, so that they reach the handler (which answers 404).
NUMBERS = {"apiKeyId": "999999", "rowIndex": "999999"}


@pytest.fixture(scope="module")
def app() -> HelioscopeApp:
    return create_app(Settings(database_url="sqlite:///:memory:"))


def test_every_operation_declares_its_need(app: HelioscopeApp) -> None:
    undeclared = [
        f"{method} {path}"
        for method, path, operation in operations(app)
        if operation.get(SCOPE_EXTENSION) not in set(Need)
    ]
    assert not undeclared, (
        "these operations declare no need: list their routers in helioscope.api.API "
        f"with the scope they need: {undeclared}"
    )
    # The need is stated where a reader of /docs looks, too.
    for _, _, operation in operations(app):
        assert operation["description"].endswith(Need(operation[SCOPE_EXTENSION]).sentence)


def _module_routers() -> dict[str, APIRouter | RawRoutes]:
    found: dict[str, APIRouter | RawRoutes] = {}
    package = helioscope.api
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, APIRouter | RawRoutes):
                found[f"{info.name}.{name}"] = value
    return found


def test_every_router_of_the_api_package_is_in_the_table() -> None:
    declared = {id(group) for group, _ in API}
    missing = [name for name, router in _module_routers().items() if id(router) not in declared]
    assert not missing, f"routers outside the route table (helioscope.api.API): {missing}"
    assert len(declared) == len(API), "a router is listed twice in the route table"


def test_the_app_serves_no_undeclared_route(app: HelioscopeApp) -> None:
    declared = {id(route) for route in DECLARED.routes}
    extra = [
        f"{sorted(route.methods or ())} {route.path}"
        for route in app.routes
        if isinstance(route, APIRoute) and id(route) not in declared
    ]
    # The UI's `/` only redirects to `/ui/`; it is no API operation.
    assert extra == ["['GET'] /"]


def _first_match(app: HelioscopeApp, method: str, path: str) -> Any:
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
    for route in app.routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
    return None


def test_each_operation_is_reached_by_its_own_path(app: HelioscopeApp) -> None:
    assert app.dispatch is not None
    for method, path, _ in operations(app):
        concrete = fill(path, NUMBERS)
        target = app.dispatch.target(concrete)
        # The server calls no API route directly, past the middleware (``direct_app``).
        assert app.direct_app(concrete) is None, path
        if path in DECLARED.raw:
            assert target is DECLARED.raw[path], path
            continue
        # No provider prefix swallows an API route, and no earlier route shadows it.
        assert target == app.serve_api, path
        route = _first_match(app, method, concrete)
        assert route is not None and (route.path, method in route.methods) == (path, True), (
            f"{method} {path} is taken by {route and route.path}"
        )


def test_the_server_calls_the_provider_routes_directly(app: HelioscopeApp) -> None:
    assert app.dispatch is not None
    for prefix, gateway in app.dispatch.prefixes:
        assert app.direct_app(prefix + "v1/chat/completions") is gateway
    assert app.direct_app("/v1/chat/completions") is None  # the AI Gateway: GET goes to the API
    assert app.direct_app("/v1/request/query") is None


def _allowed(need: Need, scope: str | None) -> bool:
    letters = need.letters
    return letters is None or (scope is not None and letters in scope)


async def test_every_operation_answers_each_scope_as_declared(api: InProcess) -> None:
    org = await api.add_org("walker")
    keys: dict[str | None, str | None] = {None: None, **{s: k for s, k in org.keys.items()}}
    for method, path, operation in operations(api.app):
        need = Need(operation[SCOPE_EXTENSION])
        for scope, key in keys.items():
            response = await api.call(method, fill(path, NUMBERS), key)
            where = f"{method} {path} with {scope or 'no'} key"
            assert response.status_code < 500, (where, response.text)
            if _allowed(need, scope):
                assert response.status_code not in (401, 403), (where, response.text)
                continue
            body = response.json()
            assert response.status_code == (401 if key is None else 403), (where, body)
            assert body["data"] is None, where
            if key is not None:
                assert SCOPE_WORDS[need] in body["error"], (where, body)


async def _seed(api: InProcess, org: Org) -> dict[str, str]:
    """A logged request, a prompt, a dataset and an experiment with one row, made with rw."""
    rw = org.keys["rw"]
    logged = await api.call(
        "POST",
        "/custom/v1/log",
        rw,
        {
            "providerRequest": {"url": "https://api.openai.com/v1/chat/completions", "json": {}},
            "providerResponse": {"status": 200, "json": {"choices": []}},
            "timing": {"startTime": 1_700_000_000, "endTime": 1_700_000_001},
        },
    )
    request_id = logged.headers["helicone-id"]
    await api.services.started.writer.flush()
    template = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    prompt = await api.data(
        "POST", "/v1/prompt/create", rw, {"userDefinedId": "kept", "prompt": template}
    )
    dataset = await api.data(
        "POST", "/v1/helicone-dataset", rw, {"datasetName": "kept", "requestIds": [request_id]}
    )
    experiment = await api.data(
        "POST",
        "/v2/experiment/new",
        rw,
        {"name": "kept", "originalPromptVersion": prompt["prompt_version_id"]},
    )
    row = await api.data(
        "POST", f"/v2/experiment/{experiment['experimentId']}/add-manual-row", rw, {"inputs": {}}
    )
    return {
        "request": request_id,
        "prompt": prompt["id"],
        "version": prompt["prompt_version_id"],
        "dataset": dataset["datasetId"],
        "experiment": experiment["experimentId"],
        "row": row,
    }


def _changes(ids: dict[str, str]) -> list[tuple[str, str, Any]]:
    """The changes issue 16 found a read key could make, on real objects."""
    request, experiment = ids["request"], ids["experiment"]
    return [
        ("DELETE", f"/v1/prompt/{ids['prompt']}", None),
        (
            "POST",
            f"/v2/experiment/{experiment}/run-hypothesis",
            {"inputRecordId": ids["row"], "promptVersionId": ids["version"]},
        ),
        (
            "POST",
            "/v1/evaluator/python/test",
            {
                "code": "print(1)",
                "testInput": {"inputBody": "{}", "outputBody": "{}", "inputs": {"inputs": {}}},
            },
        ),
        ("POST", f"/v1/request/{request}/feedback", {"rating": True}),
        ("PUT", f"/v1/request/{request}/property", {"key": "team", "value": "red"}),
        ("POST", f"/v1/request/{request}/score", {"scores": {"quality": 5}}),
        ("POST", f"/v1/helicone-dataset/{ids['dataset']}/delete", None),
        ("POST", "/v1/property/hide", {"key": "team"}),
    ]


async def _state(api: InProcess, key: str, ids: dict[str, str]) -> dict[str, Any]:
    request = await api.data("GET", f"/v1/request/{ids['request']}", key)
    return {
        "prompts": [p["id"] for p in await api.data("POST", "/v1/prompt/query", key, {})],
        "datasets": [
            d["id"] for d in await api.data("POST", "/v1/helicone-dataset/query", key, {})
        ],
        "feedback": request.get("feedback_rating"),
        "properties": request["request_properties"],
        "scores": request["scores"],
        "hidden": await api.data("POST", "/v1/property/hidden/query", key),
    }


async def test_a_read_key_changes_nothing(api: InProcess, fake: Any) -> None:
    org = await api.add_org("reader")
    ids = await _seed(api, org)
    before = await _state(api, org.keys["r"], ids)
    calls = len(fake.calls)
    for method, path, body in _changes(ids):
        response = await api.call(method, path, org.keys["r"], body)
        assert response.status_code == 403, (method, path, response.text)
        assert "write scope" in response.json()["error"]
    assert await _state(api, org.keys["r"], ids) == before
    assert len(fake.calls) == calls  # no provider call was made
    # The same changes with a write key go through, so the 403s above are the check's doing.
    for method, path, body in _changes(ids)[3:]:
        response = await api.call(method, path, org.keys["w"], body)
        assert response.status_code < 300, (method, path, response.text)
    after = await _state(api, org.keys["rw"], ids)
    assert after["datasets"] == [] and after["hidden"] and after["scores"]


async def test_a_handler_outside_the_table_fails_loudly(api: InProcess) -> None:
    org = await api.add_org("stray")

    async def stray(key: ApiKeyDep) -> dict[str, str]:
        return {"org": key.organization_id}

    # Added behind the table's back: nothing admitted a key, so the handler cannot have one.
    api.app.add_api_route("/v1/stray", stray, methods=["GET"])
    with pytest.raises(RuntimeError, match=r"declare its router .*helioscope\.api"):
        await api.call("GET", "/v1/stray", org.keys["rw"])
