"""Fields Helicone fills that Helioscope now fills too: ``country_code`` and ``signed_body_url``.

The country comes from a header a proxy in front sets (``CF-IPCountry``, or the one configured
as ``HELIOSCOPE_COUNTRY_CODE_HEADER``). The body link is an HMAC-signed, expiring URL on this
server that answers Helicone's ``{request, response}`` document without an API key.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest

from helioscope import Settings, body_links
from helioscope.store.log import requests
from tests.conftest import Running
from tests.gateway.clients import PROVIDER_KEY
from tests.running import IN_PROCESS_URL, running

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi there"}]}


async def chat(hs: Running, headers: dict[str, str]) -> str:
    """One proxied chat call with ``headers``; its request id, once logged."""
    async with hs.http() as http:
        response = await http.post(
            "/oai/v1/chat/completions",
            content=orjson.dumps(CHAT),
            headers={
                "content-type": "application/json",
                "authorization": f"Bearer {PROVIDER_KEY}",
                "helicone-auth": f"Bearer {hs.key}",
                **headers,
            },
        )
    assert response.status_code == 200, response.text
    await hs.flush()
    return response.headers["helicone-id"]


async def country_of(hs: Running, request_id: str) -> Any:
    row = await hs.services.store.log.org(hs.org_id).read(requests.get_request, request_id)
    assert row is not None
    return row["country_code"]


async def test_the_country_comes_from_cf_ipcountry(helioscope: Running) -> None:
    assert await country_of(helioscope, await chat(helioscope, {"CF-IPCountry": "de"})) == "DE"
    assert await country_of(helioscope, await chat(helioscope, {})) is None
    # Not a country code: nothing is recorded rather than a wrong value.
    bogus = await chat(helioscope, {"CF-IPCountry": "Germany"})
    assert await country_of(helioscope, bogus) is None
    # A configured header that this deployment does not set leaves CF-IPCountry in charge,
    # and the value reaches Helicone's shape.
    async with helioscope.http(headers=helioscope.auth()) as http:
        query = {"filter": {"request_response_rmt": {"country_code": {"equals": "DE"}}}}
        found = (await http.post("/v1/request/query", json=query)).json()["data"]
    assert [r["country_code"] for r in found] == ["DE"]


async def test_a_configured_header_wins(settings: Settings) -> None:
    configured = settings.model_copy(update={"country_code_header": "X-Client-Country"})
    async with running(configured) as hs:
        both = {"X-Client-Country": "fr", "CF-IPCountry": "DE"}
        assert await country_of(hs, await chat(hs, both)) == "FR"
        assert await country_of(hs, await chat(hs, {"CF-IPCountry": "DE"})) == "DE"


async def signed_url(hs: Running, request_id: str) -> str:
    """The request's ``signed_body_url``, as the single-request and the query routes give it."""
    async with hs.http(headers=hs.auth()) as http:
        one = (await http.get(f"/v1/request/{request_id}")).json()["data"]
        listed = (await http.post("/v1/request/query", json={"filter": "all"})).json()["data"]
    prefix = IN_PROCESS_URL + "/v1/public/request-body/"
    assert all(r["signed_body_url"].startswith(prefix) for r in listed) and listed
    url: str = one["signed_body_url"]
    assert url.startswith(prefix)
    return url


async def test_the_signed_body_url_serves_the_bodies_without_a_key(helioscope: Running) -> None:
    request_id = await chat(
        helioscope, {"Helicone-Session-Id": "s-1", "Helicone-Session-Path": "/a"}
    )
    url = await signed_url(helioscope, request_id)
    async with helioscope.http(headers=helioscope.auth()) as http:
        trace = (await http.get("/v1/session/s-1/trace")).json()["data"]
    assert trace[0]["signed_body_url"].startswith(IN_PROCESS_URL + "/v1/public/request-body/")
    async with helioscope.http() as http:  # no key
        document = (await http.get(url)).json()
    assert document["request"] == CHAT
    assert document["response"]["choices"][0]["message"]["role"] == "assistant"


async def test_an_altered_or_expired_link_is_refused(helioscope: Running) -> None:
    request_id = await chat(helioscope, {})
    url = await signed_url(helioscope, request_id)
    payload, mac = url.rsplit("/", 1)[1].split(".")
    async with helioscope.http() as http:
        flipped = mac[:-2] + ("AA" if mac[-2:] != "AA" else "BB")
        altered = await http.get(f"/v1/public/request-body/{payload}.{flipped}")
        assert altered.status_code == 404
        assert altered.json() == {"data": None, "error": "this body link is not valid"}
        # The payload of another request, under this request's signature: refused.
        other = await chat(helioscope, {})
        other_payload = (await signed_url(helioscope, other)).rsplit("/", 1)[1].split(".")[0]
        swapped = await http.get(f"/v1/public/request-body/{other_payload}.{mac}")
        assert swapped.status_code == 404
        garbage = await http.get("/v1/public/request-body/not-a-token")
        assert garbage.status_code == 404
        links = helioscope.services.body_links
        old = links.token(helioscope.org_id, request_id, now=time.time() - links.seconds - 1)
        expired = await http.get(f"/v1/public/request-body/{old}")
        assert expired.status_code == 403
        assert "expired" in expired.json()["error"]
        fresh = await http.get(
            f"/v1/public/request-body/{links.token(helioscope.org_id, request_id)}"
        )
        assert fresh.status_code == 200


class _Clock:
    """``time`` as the body links see it, moved on at will (a sleep flaked under load)."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def time(self) -> float:
        return time.time() + self.ahead


async def test_links_do_not_outlive_their_setting(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock()
    monkeypatch.setattr(body_links, "time", clock)
    short = settings.model_copy(update={"signed_url_seconds": 30})
    async with running(short) as hs:
        url = await signed_url(hs, await chat(hs, {}))
        async with hs.http() as http:
            clock.ahead = 28  # the expiry is in whole seconds: a second's margin
            assert (await http.get(url)).status_code == 200
            clock.ahead = 32
            assert (await http.get(url)).status_code == 403


async def test_a_link_reads_only_its_own_organization(helioscope: Running) -> None:
    request_id = await chat(helioscope, {})
    other_org, other_key = await helioscope.add_org("other")
    links = helioscope.services.body_links
    # A genuine link of the other organization naming this request finds nothing there.
    token = links.token(other_org, request_id)
    async with helioscope.http() as http:
        response = await http.get(f"/v1/public/request-body/{token}")
    assert response.status_code == 404
