"""Webhooks over HTTP, delivered to a real receiver on loopback that checks the signature."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any

import pytest

from helioscope.ingest.webhooks import MAX_BODY_CHARS, payload
from helioscope.store import LogRow
from helioscope.store.log import requests
from tests.conftest import Running
from tests.gateway.clients import openai_client
from tests.insights.receiver import Receiver, receiving
from tests.insights.seed import call, data, post
from tests.insights.test_keys import create


async def add_webhook(hs: Running, receiver: Receiver, config: dict[str, Any] | None = None) -> str:
    body: dict[str, Any] = {"destination": receiver.url, "config": config or {}}
    webhook_id: str = data(await post(hs, "/v1/webhooks", body))["id"]
    listed = data(await call(hs, "GET", "/v1/webhooks"))
    receiver.secret = next(w["hmac_key"] for w in listed if w["id"] == webhook_id)
    return webhook_id


async def chat(hs: Running, team: str = "search") -> str:
    async with openai_client(hs, **{"Helicone-Property-Team": team, "Helicone-User-Id": "u1"}) as c:
        raw = await c.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "one two three"}]
        )
    return str(raw.headers["helicone-id"])


async def settle(hs: Running) -> None:
    await hs.flush()
    await asyncio.wait_for(hs.services.started.webhooks.idle(), 10)


async def test_a_logged_call_is_posted_signed(helioscope: Running) -> None:
    async with receiving() as receiver:
        await add_webhook(helioscope, receiver)
        request_id = await chat(helioscope)
        [body] = await receiver.wait_for(1)
    assert receiver.bad_signatures == 0
    assert body["request_id"] == request_id
    assert body["request_body"]["messages"][0]["content"] == "one two three"
    assert body["response_body"]["choices"][0]["message"]["content"]
    assert body["model"] == "gpt-4o-mini" and body["provider"] == "OPENAI"
    assert body["user_id"] == "u1" and body["properties"] == {"team": "search"}
    assert body["metadata"]["promptTokens"] == 3
    assert (
        body["metadata"]["totalTokens"]
        == body["metadata"]["promptTokens"] + (body["metadata"]["completionTokens"])
    )
    assert body["metadata"]["cost"] > 0 and body["metadata"]["latencyMs"] >= 0


async def test_property_filters_sample_rate_and_include_data(helioscope: Running) -> None:
    async with receiving("/a") as only_search, receiving("/b") as never, receiving("/c") as bare:
        await add_webhook(
            helioscope, only_search, {"propertyFilters": [{"key": "team", "value": "search"}]}
        )
        await add_webhook(helioscope, never, {"sampleRate": 0})
        await add_webhook(helioscope, bare, {"includeData": False})
        searched = await chat(helioscope, "search")
        await chat(helioscope, "ads")
        await settle(helioscope)
    assert [b["request_id"] for b in only_search.bodies] == [searched]
    assert never.attempts == []
    assert len(bare.bodies) == 2
    assert set(bare.bodies[0]) == {"request_id", "request_body", "response_body"}


async def test_failed_deliveries_are_retried_with_the_same_signed_body(
    helioscope: Running,
) -> None:
    async with receiving() as receiver:
        receiver.statuses = [500, 503]
        await add_webhook(helioscope, receiver)
        await chat(helioscope)
        await receiver.wait_for(1)
    assert len(receiver.attempts) == 3
    assert receiver.attempts[0] == receiver.attempts[1] == receiver.attempts[2]
    assert receiver.bad_signatures == 0
    assert helioscope.services.started.webhooks.delivered == 1


async def test_a_slow_destination_never_blocks_logging(helioscope: Running) -> None:
    async with receiving() as receiver:
        receiver.delay = 2.0
        await add_webhook(helioscope, receiver)
        ids = [await chat(helioscope) for _ in range(3)]
        started = asyncio.get_running_loop().time()
        await helioscope.flush()
        assert asyncio.get_running_loop().time() - started < 1.0
        for request_id in ids:
            assert await helioscope.services.store.log.org(helioscope.org_id).read(
                requests.get_request, request_id
            )
        assert receiver.bodies == []  # still being delivered
        await receiver.wait_for(3)


async def test_organizations_are_apart(helioscope: Running) -> None:
    async with receiving() as receiver:
        webhook_id = await add_webhook(helioscope, receiver)
        other_org, other_key = await helioscope.add_org("other")
        assert data(await call(helioscope, "GET", "/v1/webhooks", key=other_key)) == []
        path = f"/v1/webhooks/{webhook_id}"
        assert (await call(helioscope, "DELETE", path, key=other_key)).status_code == 404
        assert (await post(helioscope, f"{path}/test", {}, other_key)).status_code == 404
        async with openai_client(helioscope, **{"Helicone-Auth": f"Bearer {other_key}"}) as c:
            await c.chat.completions.create(model="gpt-4o-mini", messages=[])
        await settle(helioscope)
        assert receiver.attempts == []
        assert data(await post(helioscope, f"{path}/test", {})) is None
        [sample] = await receiver.wait_for(1)
        assert sample["test"] is True and receiver.bad_signatures == 0
        assert data(await call(helioscope, "DELETE", path)) is None
        await chat(helioscope)
        await settle(helioscope)
        assert len(receiver.bodies) == 1
    assert other_org


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"destination": "http://example.com/hook"}, "destination"),
        ({"destination": "http://10.1.2.3/hook"}, "destination"),
        ({"destination": "ftp://127.0.0.1/hook"}, "destination"),
        ({"destination": "https://example.com/h", "config": {"sampleRate": 150}}, "sampleRate"),
        (
            {"destination": "https://example.com/h", "config": {"propertyFilters": [{"key": ""}]}},
            "propertyFilters",
        ),
    ],
)
async def test_bad_webhooks_are_400_naming_the_field(
    helioscope: Running, body: dict[str, Any], named: str
) -> None:
    response = await post(helioscope, "/v1/webhooks", body)
    assert response.status_code == 400, response.text
    assert response.json()["data"] is None and named in response.json()["error"]


async def test_https_destinations_and_scopes(helioscope: Running) -> None:
    created = data(await post(helioscope, "/v1/webhooks", {"destination": "https://example.com/h"}))
    read_only = (await create(helioscope, "r"))["apiKey"]
    denied = await post(helioscope, "/v1/webhooks", {"destination": "https://e.com"}, read_only)
    assert denied.status_code == 403
    missing = await call(helioscope, "DELETE", "/v1/webhooks/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["error"]
    assert data(await call(helioscope, "DELETE", f"/v1/webhooks/{created['id']}")) is None


async def test_a_receiver_posts_scores_back(helioscope: Running) -> None:
    async with receiving() as receiver:
        await add_webhook(helioscope, receiver)
        request_id = await chat(helioscope)
        [body] = await receiver.wait_for(1)
    path = f"/v1/webhook/request/{body['request_id']}/score"
    response = await post(helioscope, path, {"scores": {"quality": 7, "safe": True}})
    assert response.status_code == 201 and response.json() == {"data": None, "error": None}
    row = await helioscope.services.store.log.org(helioscope.org_id).read(
        requests.get_request, request_id
    )
    assert row is not None and row["scores"] == {"quality": 7, "safe-hcone-bool": 1}
    _, other_key = await helioscope.add_org("other")
    stolen = await post(helioscope, path, {"scores": {"quality": 0}}, other_key)
    assert stolen.status_code == 404


async def test_a_webhook_created_while_webhooks_are_read_is_not_missed(
    helioscope: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read of the webhooks that began before one was created must not be trusted for the
    refresh interval: the next batch reads again (it was missed for 5 s)."""
    dispatcher = helioscope.services.started.webhooks
    release = asyncio.Event()
    answers = [[], [{"organization_id": helioscope.org_id, "id": "new"}]]

    class SlowStore:
        async def read(self, *_: Any) -> list[dict[str, Any]]:
            await release.wait()
            return answers.pop(0)

    monkeypatch.setattr(dispatcher, "store", SlowStore())
    dispatcher.forget()
    reading = asyncio.create_task(dispatcher._webhooks())
    await asyncio.sleep(0)
    dispatcher.forget()  # a webhook is created while the read is under way
    release.set()
    assert await reading == {}
    assert [hook["id"] for hook in (await dispatcher._webhooks())[helioscope.org_id]] == ["new"]


async def test_the_queue_holds_what_webhooks_send_not_the_batch(helioscope: Running) -> None:
    # The writer offers every stored batch: the queue must not keep bodies no webhook sends
    # (rows of organizations without webhooks, bodies past MAX_BODY_CHARS), or a batch of
    # 200 KB bodies stays alive until the webhooks are read (issue 19's memory bench).
    webhooks = helioscope.services.started.webhooks
    large = "x" * (MAX_BODY_CHARS + 1)
    async with receiving() as receiver:
        await add_webhook(helioscope, receiver)
        await chat(helioscope)
        await settle(helioscope)  # its batch had the webhooks read: the list is fresh now
        mine = LogRow(
            request_id="r-1",
            organization_id=helioscope.org_id,
            request_created_at=dt.datetime.now(dt.UTC),
            status=200,
            provider="OPENAI",
            request_body=large,
            response_body="{}",
        )
        other = dataclasses.replace(mine, organization_id="another-org")
        queue = webhooks._queue  # read before the dispatcher runs: no await from here
        webhooks.offer([other])
        assert queue.empty()
        webhooks.offer([mine, other])
        (queued,) = queue.get_nowait()
        queue.task_done()
        assert queued.request_id == "r-1"
        assert queued.response_body == "{}"
        assert payload(queued, True) == payload(mine, True)
        assert queued.request_body is not None and len(queued.request_body) < MAX_BODY_CHARS
