from __future__ import annotations

import pytest

from tests.conftest import Running
from tests.gateway.clients import openai_client, stored

# These routes read the log: they run with it in ClickHouse too (tests/conftest.py).
pytestmark = pytest.mark.clickhouse


async def make_call(hs: Running) -> str:
    async with openai_client(
        hs, **{"Helicone-Property-Team": "search", "Helicone-User-Id": "u-1"}
    ) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "one two three"}]
        )
    request_id = str(raw.headers["helicone-id"])
    await stored(hs, request_id)
    return request_id


async def test_get_request_returns_heliconerequest_shape(helioscope: Running) -> None:
    request_id = await make_call(helioscope)
    async with helioscope.http() as http:
        response = await http.get(
            f"/v1/request/{request_id}", headers={"authorization": f"Bearer {helioscope.key}"}
        )
    assert response.status_code == 200
    body = response.json()
    assert body["error"] is None
    data = body["data"]
    assert data["request_id"] == request_id
    assert data["response_status"] == 200
    assert data["provider"] == "OPENAI"
    assert data["model"] == "gpt-4o-mini"
    assert data["request_user_id"] == "u-1"
    assert data["properties"] == {"team": "search"}
    assert data["request_properties"] == {"team": "search"}
    assert data["prompt_tokens"] == 3
    assert data["completion_tokens"] == 5
    assert data["total_tokens"] == 8
    assert data["costUSD"] > 0
    assert data["delay_ms"] >= 0
    assert data["request_body"]["messages"][0]["content"] == "one two three"
    assert data["response_body"]["choices"][0]["message"]["content"].startswith("Hello")
    assert data["request_created_at"].endswith("Z")
    assert data["target_url"].endswith("/v1/chat/completions")
    for field in ("response_id", "llmSchema", "asset_ids", "scores", "country_code", "assets"):
        assert field in data

    async with helioscope.http() as http:
        response = await http.get(
            f"/v1/request/{request_id}",
            params={"includeBody": "false"},
            headers={"authorization": f"Bearer {helioscope.key}"},
        )
    assert response.json()["data"]["request_body"] is None


async def test_another_organization_cannot_read_it(helioscope: Running) -> None:
    request_id = await make_call(helioscope)
    _, other_key = await helioscope.add_org("other")
    async with helioscope.http() as http:
        response = await http.get(
            f"/v1/request/{request_id}", headers={"authorization": f"Bearer {other_key}"}
        )
    assert response.status_code == 404
    assert response.json() == {"data": None, "error": f"request {request_id} not found"}


async def test_api_needs_a_key(helioscope: Running) -> None:
    async with helioscope.http() as http:
        missing = await http.get("/v1/request/abc")
        wrong = await http.get("/v1/request/abc", headers={"authorization": "Bearer sk-nope"})
    assert missing.status_code == 401
    assert missing.json()["data"] is None
    assert wrong.status_code == 401
