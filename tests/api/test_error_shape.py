"""Every API route answers bad input with a 4xx in Helicone's envelope, never a 500."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from helioscope import Settings, create_app
from helioscope.api.access import SCOPE_EXTENSION, Need
from helioscope.app import server_options
from helioscope.testing import serve
from tests.conftest import Running

BAD_BODIES: list[object] = ["not json", {"filter": {"nope": 1}}, [1, 2], {"limit": "many"}]


DOCUMENT = create_app(Settings(database_url="sqlite:///:memory:")).openapi()


def api_routes() -> list[tuple[str, str]]:
    """Every route of the API, read from the app's own OpenAPI document."""
    paths: dict[str, dict[str, object]] = DOCUMENT["paths"]
    return [
        (method.upper(), path)
        for path, operations in sorted(paths.items())
        for method in sorted(operations)
    ]


def open_without_input() -> set[tuple[str, str]]:
    """Public operations that take no path, query or body: the health probes. They have no
    input to refuse, so a call without a key is answered, not refused."""
    paths: dict[str, dict[str, dict[str, object]]] = DOCUMENT["paths"]
    return {
        (method.upper(), path)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if operation.get(SCOPE_EXTENSION) == Need.PUBLIC
        and not operation.get("parameters")
        and "requestBody" not in operation
    }


OPEN = open_without_input()


def fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", path)


def assert_envelope(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    body = response.json()
    if "isValid" in body:  # the typed log route answers in Helicone's validation shape
        assert body["isValid"] is False
        assert body["errors"] and all({"field", "message"} <= e.keys() for e in body["errors"])
        return
    assert body["data"] is None
    assert isinstance(body["error"], str) and body["error"]


# One app for the whole sweep on each engine: it only refuses bad input, in an organization of
# each test's own.
@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("method", "path"), api_routes())
async def test_bad_input_gets_an_envelope(
    shared_helioscope: Running, method: str, path: str
) -> None:
    shared = shared_helioscope
    _, key = await shared.add_org(f"sweep-{uuid.uuid4().hex}")
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    async with shared.http() as http:
        unauthenticated = await http.request(method, fill(path))
        if (method, path) in OPEN:
            assert unauthenticated.status_code == 200, unauthenticated.text
        else:
            assert_envelope(unauthenticated)
        for body in BAD_BODIES:
            content = (
                body if isinstance(body, str) else httpx.Request("POST", "/", json=body).content
            )
            response = await http.request(method, fill(path), content=content, headers=headers)
            if response.status_code < 400:
                continue  # this route ignores bodies; the unauthenticated call covered it
            assert_envelope(response)
        bad_query = await http.request(
            method, fill(path), params={"includeBody": "maybe", "limit": "-x"}, headers=headers
        )
        if bad_query.status_code >= 400:
            assert_envelope(bad_query)


async def test_unknown_route_is_an_envelope(helioscope: Running) -> None:
    async with helioscope.http() as http:
        response = await http.get("/v1/does-not-exist")
    assert response.status_code == 404
    assert response.json() == {"data": None, "error": "Not Found"}


async def test_an_unexpected_error_is_a_500_envelope_that_closes_the_connection(
    settings: Settings,
) -> None:
    # The server drops the connection after an unhandled error; without "connection: close" a
    # keep-alive client sends its next request into the reset.
    app = create_app(settings)

    async def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/v1/boom", boom, methods=["POST"])
    async with (
        serve(app, **server_options(settings)) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        response = await http.post("/v1/boom")
        assert response.status_code == 500
        assert response.json() == {"data": None, "error": "internal error"}
        assert response.headers["connection"] == "close"
        for _ in range(3):  # the next calls on the same client are unaffected
            assert (await http.get("/v1/request/nope")).status_code == 401


def _references(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_references(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_references(v) for v in node))
    return set()


def test_every_route_documents_its_errors_as_the_envelope() -> None:
    """Each operation lists the error statuses it can answer, each as ``ErrorBody``, and every
    reference in the document resolves (a client generator refuses a dangling one)."""
    components = DOCUMENT["components"]["schemas"]
    assert components["ErrorBody"]["required"] == ["error"]
    assert set(components["ErrorBody"]["properties"]) == {"data", "error"}
    for method, path in api_routes():
        if (method, path) in OPEN:  # the health probes: no input, no key, no error to answer
            continue
        responses = DOCUMENT["paths"][path][method.lower()]["responses"]
        for status in ("400", "401", "403", "404", "413", "503"):
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)
    prefix = "#/components/schemas/"
    dangling = {r for r in _references(DOCUMENT) if r.removeprefix(prefix) not in components}
    assert not dangling
