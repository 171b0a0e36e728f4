from __future__ import annotations

import uuid

import httpx
import orjson
import pytest

from helioscope.testing import FakeProvider
from tests.conftest import Running
from tests.gateway.clients import PROVIDER_KEY, openai_client, stored

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi there"}]}


async def post_chat(hs: Running, headers: dict[str, str], body: object = CHAT) -> httpx.Response:
    async with httpx.AsyncClient(base_url=hs.url) as http:
        return await http.post(
            "/oai/v1/chat/completions",
            content=orjson.dumps(body),
            headers={
                "content-type": "application/json",
                "authorization": f"Bearer {PROVIDER_KEY}",
                "helicone-auth": f"Bearer {hs.key}",
                **headers,
            },
        )


async def test_properties_sessions_and_user(helioscope: Running, fake: FakeProvider) -> None:
    headers = {
        "Helicone-Property-RequestId": "abc",
        "Helicone-Property-Environment": "Prod",
        "Helicone-Session-Id": "sess-1",
        "Helicone-Session-Path": "/parent/child",
        "Helicone-Session-Name": "Trip planner",
        "Helicone-User-Id": "alice",
    }
    async with openai_client(helioscope.on_socket(), **headers) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], user="bob"
        )
    row = await stored(helioscope, raw.headers["helicone-id"])
    # Property keys are lower-cased, as Helicone reads them; session keys keep their exact names.
    assert row["properties"] == {
        "requestid": "abc",
        "environment": "Prod",
        "Helicone-Session-Id": "sess-1",
        "Helicone-Session-Path": "/parent/child",
        "Helicone-Session-Name": "Trip planner",
    }
    assert row["user_id"] == "alice"  # the header wins over the body's user
    assert not [h for h in fake.last.headers if h.startswith("helicone-")]


async def test_client_request_id_is_used_when_it_is_a_uuid(helioscope: Running) -> None:
    chosen = str(uuid.uuid4())
    response = await post_chat(helioscope, {"Helicone-Request-Id": chosen})
    assert response.headers["helicone-id"] == chosen
    await stored(helioscope, chosen)

    response = await post_chat(helioscope, {"Helicone-Request-Id": "not-a-uuid"})
    generated = response.headers["helicone-id"]
    assert generated != "not-a-uuid"
    uuid.UUID(generated)
    await stored(helioscope, generated)


async def test_model_override_and_omit(helioscope: Running) -> None:
    response = await post_chat(
        helioscope,
        {
            "Helicone-Model-Override": "my-custom-model",
            "Helicone-Omit-Request": "true",
            "Helicone-Omit-Response": "true",
        },
    )
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"].startswith("Hello")
    row = await stored(helioscope, response.headers["helicone-id"])
    assert row["model"] == "my-custom-model"
    assert row["model_override"] == "my-custom-model"
    assert row["request_model"] == "gpt-4o-mini"
    assert row["request_body"] is None
    assert row["response_body"] is None
    assert row["prompt_tokens"] == 2  # usage is still counted
    assert row["cost"] is None  # nobody knows the price of my-custom-model


async def test_helicone_key_inside_authorization(helioscope: Running, fake: FakeProvider) -> None:
    async with httpx.AsyncClient(base_url=helioscope.url) as http:
        response = await http.post(
            "/oai/v1/chat/completions",
            json=CHAT,
            headers={"authorization": f"Bearer {PROVIDER_KEY}, Bearer {helioscope.key}"},
        )
    assert response.status_code == 200
    assert fake.last.headers["authorization"] == f"Bearer {PROVIDER_KEY}"
    await stored(helioscope, response.headers["helicone-id"])


async def test_response_headers_and_status_are_relayed(helioscope: Running) -> None:
    response = await post_chat(helioscope, {"x-fake-status": "429"})
    assert response.status_code == 429
    assert response.json()["error"]["type"] == "rate_limit_exceeded"
    row = await stored(helioscope, response.headers["helicone-id"])
    assert row["status"] == 429
    assert orjson.loads(row["response_body"])["error"]["code"] == "rate_limit_exceeded"


async def test_a_relayed_response_has_the_providers_headers_once(
    helioscope: Running, fake: FakeProvider
) -> None:
    async with httpx.AsyncClient() as http:
        direct = await http.post(
            f"{fake.url}/v1/chat/completions",
            content=orjson.dumps(CHAT),
            headers={"authorization": f"Bearer {PROVIDER_KEY}"},
        )
    relayed = await post_chat(helioscope, {})
    names = [name for name, _ in relayed.headers.raw]
    expected = [name for name, _ in direct.headers.raw] + [b"helicone-id"]
    assert names == expected  # one date, the provider's server, nothing of the gateway's own
    assert relayed.headers["server"] == direct.headers["server"]


async def test_responses_helioscope_writes_itself_are_dated(helioscope: Running) -> None:
    async with httpx.AsyncClient(base_url=helioscope.url) as http:
        refused = await http.post("/oai/v1/chat/completions", content=b"{}")  # no Helicone key
        api = await http.get(
            "/v1/request/not-a-request", headers={"authorization": f"Bearer {helioscope.key}"}
        )
    for response in (refused, api):
        assert len(response.headers.get_list("date")) == 1
        assert "server" not in response.headers
    assert refused.status_code == 401


async def test_gzip_response_passes_through_and_is_logged(helioscope: Running) -> None:
    async with httpx.AsyncClient(base_url=helioscope.url) as http:
        response = await http.post(
            "/oai/v1/chat/completions",
            json=CHAT,
            headers={
                "authorization": f"Bearer {PROVIDER_KEY}",
                "helicone-auth": f"Bearer {helioscope.key}",
                "x-fake-gzip": "1",
                "accept-encoding": "gzip",
            },
        )
    assert response.headers["content-encoding"] == "gzip"
    assert response.json()["model"] == "gpt-4o-mini"  # httpx decoded the relayed gzip bytes
    row = await stored(helioscope, response.headers["helicone-id"])
    assert orjson.loads(row["response_body"])["model"] == "gpt-4o-mini"
    assert row["completion_tokens"] == 5
