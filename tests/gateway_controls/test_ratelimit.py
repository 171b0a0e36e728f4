from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx
import pytest

from helioscope import create_app
from helioscope.app import server_options
from helioscope.gateway.controls import parse_policy
from helioscope.gateway.controls._ratelimit import RATE_LIMITED_MESSAGE, BucketState
from helioscope.services import Services
from helioscope.testing import FakeProvider, serve
from tests.conftest import Running
from tests.gateway.clients import PROVIDER_KEY, stored
from tests.gateway_controls.conftest import REDIS_ENV, settle

BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}


async def call(hs: Running, policy: str, body: object = BODY, **headers: str) -> httpx.Response:
    async with hs.http() as http:
        return await http.post(
            "/oai/v1/chat/completions",
            json=body,
            headers={
                "authorization": f"Bearer {PROVIDER_KEY}",
                "helicone-auth": f"Bearer {hs.key}",
                "helicone-ratelimit-policy": policy,
                **headers,
            },
        )


async def test_requests_over_the_quota_get_helicones_429_and_are_logged(
    helioscope: Running, fake: FakeProvider
) -> None:
    first = await call(helioscope, "2;w=60;u=request")
    second = await call(helioscope, "2;w=60;u=request")
    third = await call(helioscope, "2;w=60;u=request")
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
    assert first.headers["helicone-ratelimit-limit"] == "2"
    assert first.headers["helicone-ratelimit-remaining"] == "1"
    assert first.headers["helicone-ratelimit-policy"] == "2;w=60"  # the default unit left out
    assert second.headers["helicone-ratelimit-remaining"] == "0"
    assert third.headers["helicone-ratelimit-remaining"] == "0"
    assert 1 <= int(third.headers["helicone-ratelimit-reset"]) <= 60
    assert third.json() == {"message": RATE_LIMITED_MESSAGE}
    assert len(fake.calls) == 2
    row = await stored(helioscope, third.headers["helicone-id"])
    assert row["status"] == 429
    assert row["properties"]["Helicone-Rate-Limit-Status"] == "bucket_rate_limited"


async def test_user_segments_have_their_own_buckets(helioscope: Running) -> None:
    policy = "1;w=60;s=user"
    assert (await call(helioscope, policy, **{"helicone-user-id": "alice"})).status_code == 200
    assert (await call(helioscope, policy, **{"helicone-user-id": "alice"})).status_code == 429
    bob = await call(helioscope, policy, **{"helicone-user-id": "bob"})
    assert bob.status_code == 200
    assert bob.headers["helicone-ratelimit-policy"] == "1;w=60;s=user"
    missing = await call(helioscope, policy)
    assert missing.status_code == 400
    assert "Helicone-User-Id" in missing.json()["error"]


async def test_property_segments_match_the_property_name_case_insensitively(
    helioscope: Running,
) -> None:
    policy = "1;w=60;s=Team"
    team_a = {"helicone-property-team": "a"}
    assert (await call(helioscope, policy, **team_a)).status_code == 200
    assert (await call(helioscope, policy, **team_a)).status_code == 429
    assert (await call(helioscope, policy, **{"helicone-property-team": "b"})).status_code == 200


@pytest.mark.parametrize(
    ("policy", "fragment"),
    [
        ("ten;w=60", "expected '[quota];w=[seconds]"),
        ("10;w=60;u=tokens", "expected '[quota];w=[seconds]"),
        ("0;w=60", "the quota must be greater than 0"),
        ("10;w=30", "the window must be between 60 and 31536000 seconds, got 30"),
    ],
)
async def test_a_malformed_policy_is_a_clear_400(
    helioscope: Running, fake: FakeProvider, policy: str, fragment: str
) -> None:
    response = await call(helioscope, policy)
    assert response.status_code == 400
    assert response.json()["data"] is None
    assert fragment in response.json()["error"]
    assert fake.calls == []


async def test_cents_are_deducted_after_the_call_from_its_real_cost(
    helioscope: Running, fake: FakeProvider
) -> None:
    # gpt-4 input costs $30 per million tokens: 400 words are 1.2 cents.
    long = {"model": "gpt-4", "messages": [{"role": "user", "content": "word " * 400}]}
    policy = "1;w=3600;u=cents"
    first = await call(helioscope, policy, long)
    assert first.status_code == 200
    assert first.headers["helicone-ratelimit-policy"] == "1;w=3600;u=cents"
    assert first.headers["helicone-ratelimit-remaining"] == "1"  # only checked before the call
    await settle(helioscope)
    second = await call(helioscope, policy, long)
    assert second.status_code == 429
    assert second.headers["helicone-ratelimit-remaining"] == "0"
    assert len(fake.calls) == 1


async def test_cache_hits_do_not_draw_from_the_bucket(helioscope: Running) -> None:
    cache = {"helicone-cache-enabled": "true"}
    assert (await call(helioscope, "1;w=60", **cache)).status_code == 200
    await settle(helioscope)
    for _ in range(3):
        hit = await call(helioscope, "1;w=60", **cache)
        assert (hit.status_code, hit.headers["helicone-cache"]) == (200, "HIT")
    assert (await call(helioscope, "1;w=60")).status_code == 429


def test_bucket_state_reports_remaining_and_reset() -> None:
    state = BucketState(allowed=False, tokens=-0.5, capacity=10, window=60)
    assert state.remaining == 0
    assert state.reset == 63  # ceil(10.5 / (10 / 60))
    assert parse_policy("5;W=120;U=CENTS;S=user").normalized == "5;w=120;u=cents;s=user"


# Replicas share buckets only through Redis: the embedded backend has nothing to share.
@pytest.mark.parametrize("backend", ["redis"])
async def test_two_gateways_sharing_redis_enforce_one_bucket(
    helioscope: Running, backend: str
) -> None:
    assert os.environ.get(REDIS_ENV)
    settings = helioscope.replica_settings()
    app = create_app(settings)
    async with serve(app, **server_options(settings)) as url:
        other = Running(url, app.state.services, helioscope.org_id, helioscope.key)
        statuses = []
        for hs in (helioscope, other, helioscope, other, other):
            statuses.append((await call(hs, "3;w=60")).status_code)
        # Concurrent calls through both gateways: the Lua step is atomic, so exactly the quota
        # passes however the calls interleave.
        burst = await asyncio.gather(
            *(
                call(hs, "5;w=60;s=user", **{"helicone-user-id": "u"})
                for hs in [helioscope, other] * 8
            )
        )
        services: Services = app.state.services
        await services.started.writer.flush()
    assert statuses == [200, 200, 200, 429, 429]
    assert sorted(r.status_code for r in burst) == [200] * 5 + [429] * 11


async def test_memory_buckets_forget_full_buckets_past_their_limit() -> None:
    from helioscope.gateway.controls._ratelimit import MemoryBuckets

    buckets = MemoryBuckets(max_buckets=2)
    assert await buckets.step("a", 5, 60, "take", 1) == (True, 4.0)
    assert (await buckets.step("b", 5, 60, "check", 1))[0] is True  # a check leaves it full
    await buckets.step("c", 5, 60, "take", 1)  # over the limit: the full "b" is forgotten
    assert set(buckets._state) == {"a", "c"}
    allowed, tokens = await buckets.step("a", 5, 60, "take", 1)
    assert allowed and 3.0 <= tokens < 3.1  # "a" kept its state


@pytest.mark.parametrize("backend", ["redis"])
async def test_redis_buckets_live_until_they_are_full_again(
    backend: str, redis_prefix: str
) -> None:
    import redis.asyncio as aioredis

    from helioscope.gateway.controls._redis import RedisBuckets, RedisOutage

    client: Any = aioredis.Redis.from_url(os.environ[REDIS_ENV])
    try:
        buckets = RedisBuckets(client, redis_prefix, RedisOutage())
        assert await buckets.step("b", 10, 60, "take", 1) == (True, 9.0)
        assert 6 <= await client.ttl(redis_prefix + "b") <= 7  # 1 token at 10 per minute: 6 s
        allowed, tokens = await buckets.step("b", 10, 60, "charge", 25)  # cents may go negative
        assert allowed and -16.1 < tokens < -15.9
        assert 155 <= await client.ttl(redis_prefix + "b") <= 157  # 26 tokens to refill: 156 s
    finally:
        await client.aclose()
