"""Numbers past 64 bits and poisoned prompt templates get a 400 naming the field, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from helioscope import Settings
from helioscope.store.prompts import legacy_versions
from tests.api.inprocess import InProcess, Org
from tests.api.org_seed import seed

HUGE = 1089398646227959152672320403199  # past 64 bits (the find)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"secret_key": SecretStr("bounded-" + "s" * 32)})


@pytest.fixture
async def org(api: InProcess) -> Org:
    return await api.add_org("bounded")


def _refused(response: object, field: str) -> None:
    status, body = response.status_code, response.json()  # type: ignore[attr-defined]
    assert status == 400, (status, body)
    assert body["data"] is None and field in body["error"], body


async def test_integers_past_64_bits_are_refused_naming_the_field(api: InProcess, org: Org) -> None:
    rw = org.keys["rw"]
    alert = {
        "name": "a",
        "metric": "response.status",
        "threshold": 1,
        "time_window": 60_000,
        "emails": [],
        "minimum_request_count": HUGE,
    }
    _refused(await api.call("POST", "/v1/alert/create", rw, alert), "minimum_request_count")
    request_id = (await seed(api, org))["requestId"]
    for value in (123456789012345678901234567890, 1e300, HUGE):
        body = {"scores": {"s": value}}
        _refused(await api.call("POST", f"/v1/request/{request_id}/score", rw, body), "scores.s")
    _refused(await api.call("PATCH", f"/v1/api-keys/{HUGE}", rw, {"name": "x"}), "apiKeyId")
    # A free-form JSON field (a prompt's metadata) too: the store could not write it.
    prompt = {"userDefinedId": "huge", "prompt": {"model": "m", "messages": []}}
    created = await api.call("POST", "/v1/prompt/create", rw, {**prompt, "metadata": {"n": HUGE}})
    _refused(created, "metadata")
    # Bounds reach the OpenAPI document (what schemathesis and clients read).
    schema = (await api.http.get("/openapi.json")).json()["components"]["schemas"]
    assert schema["AlertRequest"]["properties"]["minimum_request_count"]["maximum"] >= 9.2e18


async def test_templates_are_validated_on_write_and_poisoned_ones_do_not_break_reads(
    api: InProcess, org: Org
) -> None:
    rw = org.keys["rw"]
    ids = await seed(api, org)
    version_id, prompt_id = ids["promptVersionId"], ids["promptId"]
    for template in (5, "text", [1, 2], None):
        edit = {"heliconeTemplate": template}
        path = f"/v1/prompt/version/{version_id}/edit-template"
        _refused(await api.call("POST", path, rw, edit), "heliconeTemplate")
        sub = {"newHeliconeTemplate": template}
        path = f"/v1/prompt/version/{version_id}/subversion"
        _refused(await api.call("POST", path, rw, sub), "newHeliconeTemplate")
    # A store poisoned before validation existed (or by an import): reads answer, never 500.
    await api.services.store.prompts.org(org.id).write(legacy_versions.edit_template, version_id, 5)
    udi = ids["user_defined_id"]
    for method, path, body in (
        ("POST", "/v1/prompt/query", {}),
        ("POST", f"/v1/prompt/{prompt_id}/query", {}),
        ("POST", f"/v1/prompt/{prompt_id}/versions/query", {}),
        ("GET", f"/v1/prompt/version/{version_id}", None),
        ("POST", f"/v1/prompt/version/{version_id}/inputs/query", {"limit": 10}),
        ("POST", f"/v1/prompt/{udi}/compile", {"filter": "all", "inputs": {}}),
        ("POST", f"/v1/prompt/{udi}/template", {"filter": "all", "inputs": {}}),
    ):
        response = await api.call(method, path, rw, body)
        assert response.status_code < 500, (method, path, response.status_code, response.text)


def _unbounded(node: Any, where: str, schemas: dict[str, Any], seen: frozenset[str]) -> list[str]:
    """The integer and number fields under ``node`` that lack a minimum or a maximum."""
    if not isinstance(node, dict):
        return []
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return [] if name in seen else _unbounded(schemas[name], where, schemas, seen | {name})
    found = []
    if node.get("type") in ("integer", "number"):
        low = "minimum" in node or "exclusiveMinimum" in node
        high = "maximum" in node or "exclusiveMaximum" in node
        if not (low and high):
            found.append(where)
    for name, child in (node.get("properties") or {}).items():
        found += _unbounded(child, f"{where}.{name}", schemas, seen)
    for key in ("items", "additionalProperties"):
        found += _unbounded(node.get(key), f"{where}[]", schemas, seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for child in node.get(key) or []:
            found += _unbounded(child, where, schemas, seen)
    return found


async def test_every_number_a_client_sends_is_bounded_in_the_openapi_document(
    api: InProcess,
) -> None:
    """By construction: any new body or parameter with a bare ``int`` or ``float`` fails here."""
    document = (await api.http.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    unbounded = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            label = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                where = f"{label} {parameter['name']}"
                unbounded += _unbounded(parameter.get("schema"), where, schemas, frozenset())
            for content in operation.get("requestBody", {}).get("content", {}).values():
                where = f"{label} body"
                unbounded += _unbounded(content.get("schema"), where, schemas, frozenset())
    assert not unbounded, "use the types of helioscope.api._fields:\n" + "\n".join(unbounded)
