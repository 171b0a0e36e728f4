from __future__ import annotations

import asyncio
import hashlib

import httpx
import orjson
import pytest
from openai.types.chat import ChatCompletionMessageParam

from helioscope import create_app
from helioscope.app import server_options
from helioscope.gateway.controls import cache_keys, parse_controls
from helioscope.services import Services
from helioscope.store import gateway_cache
from helioscope.testing import FakeProvider, serve
from tests.conftest import Running
from tests.gateway.clients import PROVIDER_KEY, anthropic_client, openai_client, stored
from tests.gateway_controls.conftest import settle

CACHE = {"Helicone-Cache-Enabled": "true"}
MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "what is the capital of France"}
]


def chat_calls(fake: FakeProvider) -> int:
    return sum(1 for c in fake.calls if c.path == "/v1/chat/completions")


async def test_second_identical_call_is_a_hit_logged_with_zero_tokens(
    helioscope: Running, fake: FakeProvider
) -> None:
    async with openai_client(helioscope, **CACHE) as client:
        first = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
        assert first.headers["helicone-cache"] == "MISS"
        await settle(helioscope)
        second = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
    assert second.headers["helicone-cache"] == "HIT"
    assert second.headers["helicone-cache-bucket-idx"] == "0"
    assert second.parse().choices[0].message.content == first.parse().choices[0].message.content
    assert chat_calls(fake) == 1
    first_id, hit_id = first.headers["helicone-id"], second.headers["helicone-id"]
    assert hit_id != first_id
    original = await stored(helioscope, first_id)
    hit = await stored(helioscope, hit_id)
    assert original["cache_enabled"] is True and original["cache_reference_id"] is None
    assert original["prompt_tokens"] > 0 and original["cost"] > 0
    assert hit["cache_enabled"] is True
    assert hit["cache_reference_id"] == first_id
    assert hit["status"] == 200
    assert (hit["prompt_tokens"], hit["completion_tokens"], hit["total_tokens"]) == (0, 0, 0)
    assert hit["cost"] == 0
    assert hit["properties"]["Helicone-Cache-Enabled"] == "true"


async def test_cache_hits_are_queryable(helioscope: Running) -> None:
    async with openai_client(helioscope, **CACHE) as client:
        first = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
        await settle(helioscope)
        hit = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
    await stored(helioscope, hit.headers["helicone-id"])
    auth = {"authorization": f"Bearer {helioscope.key}"}
    async with helioscope.http(headers=auth) as http:
        by_filter = await http.post(
            "/v1/request/query",
            json={
                "filter": {"cache_hits": {"request_id": {"equals": first.headers["helicone-id"]}}}
            },
        )
        cached = await http.post("/v1/request/query", json={"filter": "all", "isCached": True})
    assert by_filter.status_code == 200, by_filter.text
    assert [r["request_id"] for r in by_filter.json()["data"]] == [hit.headers["helicone-id"]]
    assert [r["request_id"] for r in cached.json()["data"]] == [hit.headers["helicone-id"]]


async def test_streams_are_cached_and_replayed_as_streams(
    helioscope: Running, fake: FakeProvider
) -> None:
    async def stream_text() -> tuple[str, str, str]:
        async with openai_client(helioscope, **CACHE) as client:
            raw = await client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini",
                messages=MESSAGES,
                stream=True,
                stream_options={"include_usage": True},
            )
            pieces = [c.choices[0].delta.content or "" async for c in raw.parse() if c.choices]
        return "".join(pieces), raw.headers["helicone-cache"], raw.headers["helicone-id"]

    text, status, first_id = await stream_text()
    assert status == "MISS" and text
    await settle(helioscope)
    replayed, status, hit_id = await stream_text()
    assert (replayed, status) == (text, "HIT")
    assert chat_calls(fake) == 1
    hit = await stored(helioscope, hit_id)
    assert hit["is_stream"] is True
    assert hit["cache_reference_id"] == first_id
    assert hit["total_tokens"] == 0


async def test_seed_and_ignore_keys_shape_the_key(helioscope: Running, fake: FakeProvider) -> None:
    async def call(headers: dict[str, str], body_extra: dict[str, str]) -> str:
        async with openai_client(helioscope, **CACHE, **headers) as client:
            raw = await client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini", messages=MESSAGES, extra_body=body_extra
            )
        await settle(helioscope)
        return str(raw.headers["helicone-cache"])

    assert await call({"Helicone-Cache-Seed": "a"}, {}) == "MISS"
    assert await call({"Helicone-Cache-Seed": "a"}, {}) == "HIT"
    assert await call({"Helicone-Cache-Seed": "b"}, {}) == "MISS"
    ignore = {"Helicone-Cache-Ignore-Keys": "user , ,metadata"}
    assert await call(ignore, {"user": "one"}) == "MISS"
    assert await call(ignore, {"user": "two"}) == "HIT"  # `user` is left out of the key
    assert chat_calls(fake) == 3


async def bucket_calls(
    helioscope: Running, bucket_size: int, calls: int, *, settled: bool
) -> list[tuple[str, str | None]]:
    """``(Helicone-Cache, its bucket index)`` of ``calls`` identical calls, settled if asked."""
    headers = {**CACHE, "Helicone-Cache-Bucket-Max-Size": str(bucket_size)}
    seen = []
    async with openai_client(helioscope, **headers) as client:
        for _ in range(calls):
            raw = await client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini", messages=MESSAGES
            )
            seen.append(
                (raw.headers["helicone-cache"], raw.headers.get("helicone-cache-bucket-idx"))
            )
            if settled:
                await settle(helioscope)
    return seen


async def test_bucket_fills_before_it_hits(helioscope: Running, fake: FakeProvider) -> None:
    seen = await bucket_calls(helioscope, 3, 5, settled=True)
    assert [status for status, _ in seen] == ["MISS", "MISS", "MISS", "HIT", "HIT"]
    assert chat_calls(fake) == 3
    assert seen[-1][1] in ("0", "1", "2")


async def test_back_to_back_calls_fill_each_bucket_once(
    helioscope: Running, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The store's write of a new entry may wait (a busy SQLite writer, a slow Redis): the next
    # identical call must still see that bucket filled, not pay the provider to fill it again.
    backend = helioscope.services.started.gateway.controls.cache.backend  # type: ignore[union-attr]
    write = backend.put

    async def slow_put(org_id: str, key: str, value: bytes, ttl_seconds: int) -> None:
        await asyncio.sleep(0.3)
        await write(org_id, key, value, ttl_seconds)

    monkeypatch.setattr(backend, "put", slow_put)
    seen = await bucket_calls(helioscope, 2, 4, settled=False)
    assert [status for status, _ in seen] == ["MISS", "MISS", "HIT", "HIT"]
    assert chat_calls(fake) == 2
    await settle(helioscope)


async def test_bad_bucket_size_is_a_400(helioscope: Running, fake: FakeProvider) -> None:
    async with helioscope.http() as http:
        response = await http.post(
            "/oai/v1/chat/completions",
            json={"model": "gpt-4o-mini", "messages": MESSAGES},
            headers={
                "helicone-auth": f"Bearer {helioscope.key}",
                "helicone-cache-enabled": "true",
                "helicone-cache-bucket-max-size": "21",
            },
        )
    assert response.status_code == 400
    assert response.json() == {
        "data": None,
        "error": "Helicone-Cache-Bucket-Max-Size must be an integer from 1 to 20, got '21'",
    }
    assert chat_calls(fake) == 0


async def test_max_age_expires_entries(helioscope: Running, fake: FakeProvider) -> None:
    headers = {**CACHE, "Cache-Control": "max-age=1"}
    async with openai_client(helioscope, **headers) as client:
        for expected in ("MISS", "HIT"):
            raw = await client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini", messages=MESSAGES
            )
            assert raw.headers["helicone-cache"] == expected
            await settle(helioscope)
        await asyncio.sleep(1.2)
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
    assert raw.headers["helicone-cache"] == "MISS"


async def test_errors_are_not_cached(helioscope: Running, fake: FakeProvider) -> None:
    fake.fail_next(500)
    async with helioscope.http() as http:
        for expected in (500, 200, 200):
            response = await http.post(
                "/oai/v1/chat/completions",
                json={"model": "gpt-4o-mini", "messages": MESSAGES},
                headers={"helicone-auth": f"Bearer {helioscope.key}", **CACHE},
            )
            assert response.status_code == expected
            await settle(helioscope)
    assert response.headers["helicone-cache"] == "HIT"
    assert chat_calls(fake) == 2


async def test_the_cache_survives_a_restart(helioscope: Running, fake: FakeProvider) -> None:
    async with openai_client(helioscope, **CACHE) as client:
        await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    await settle(helioscope)
    # A second server on the same store (and Redis, if any): a restarted or another replica.
    settings = helioscope.replica_settings()
    app = create_app(settings)
    async with serve(app, **server_options(settings)) as url:
        other = Running(url, app.state.services, helioscope.org_id, helioscope.key)
        async with openai_client(other, **CACHE) as client:
            raw = await client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini", messages=MESSAGES
            )
        assert raw.headers["helicone-cache"] == "HIT"
        services: Services = app.state.services
        await services.started.writer.flush()
    assert chat_calls(fake) == 1


def test_the_key_is_computed_as_helicone_computes_it() -> None:
    helicone = [
        ("helicone-cache-enabled", "true"),
        ("helicone-auth", "Bearer sk-helicone-x"),
        ("helicone-cache-seed", "s1"),
        ("helicone-property-a", "not in the key"),
    ]
    controls = parse_controls(helicone, [], f"Bearer {PROVIDER_KEY}")
    assert controls is not None and controls.cache is not None
    url = "https://api.openai.com/v1/chat/completions"
    body = b'{"model":"m","messages":[]}'
    headers = orjson.dumps(
        [
            ["authorization", f"Bearer {PROVIDER_KEY}"],
            ["helicone-auth", "Bearer sk-helicone-x"],
            ["helicone-cache-enabled", "true"],
            ["helicone-cache-seed", "s1"],
        ]
    ).decode()
    expected = hashlib.sha256(("s1" + url + body.decode() + headers).encode()).hexdigest()
    assert cache_keys(controls.cache, url, body) == [expected]

    google = parse_controls(helicone, [], "Bearer ya29.token")
    assert google is not None and google.cache is not None
    assert all(name != "authorization" for name, _ in google.cache.key_headers)


def test_a_call_without_control_headers_has_no_controls() -> None:
    plain = [("helicone-auth", "Bearer k"), ("helicone-property-x", "1"), ("helicone-user-id", "u")]
    assert parse_controls(plain, [("cache-control", "max-age=5")], "Bearer p") is None


async def test_omitted_bodies_stay_out_of_the_log_for_hits_too(helioscope: Running) -> None:
    omit = {**CACHE, "Helicone-Omit-Request": "true", "Helicone-Omit-Response": "true"}
    async with openai_client(helioscope, **omit) as client:
        await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        await settle(helioscope)
        hit = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
    assert hit.headers["helicone-cache"] == "HIT"
    row = await stored(helioscope, hit.headers["helicone-id"])
    assert (row["request_body"], row["response_body"]) == (None, None)


async def test_expired_rows_are_purged_from_the_store(helioscope: Running) -> None:
    store = helioscope.services.store
    await store.write(gateway_cache.put_many, [(helioscope.org_id, "k-old", b"v", -1)])
    await store.write(gateway_cache.put_many, [(helioscope.org_id, "k-new", b"v", 60)])
    assert await store.write(gateway_cache.purge_expired) == 1
    assert list(await store.gateway_cache.get_many(helioscope.org_id, ["k-old", "k-new"])) == [
        "k-new"
    ]
    assert await store.gateway_cache.get_many("another-org", ["k-new"]) == {}


async def test_anthropic_streams_are_cached_too(helioscope: Running, fake: FakeProvider) -> None:
    async def stream() -> tuple[str, str]:
        async with anthropic_client(helioscope, **CACHE) as client:
            raw = await client.messages.with_raw_response.create(
                model="claude-3-5-sonnet-20241022",
                max_tokens=50,
                messages=[{"role": "user", "content": "hello there"}],
                stream=True,
            )
            text = ""
            async for event in await raw.parse():
                if event.type == "content_block_delta" and event.delta.type == "text_delta":
                    text += event.delta.text
        return text, raw.headers["helicone-cache"]

    first, status = await stream()
    assert status == "MISS" and first
    await settle(helioscope)
    assert await stream() == (first, "HIT")
    assert sum(1 for c in fake.calls if c.path == "/v1/messages") == 1


async def test_a_plain_call_never_reaches_the_controls(
    helioscope: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: object) -> None:
        raise AssertionError("the controls' parser ran for a call without control headers")

    monkeypatch.setattr("helioscope.gateway._proxy.parse_controls", refuse)
    async with openai_client(helioscope, **{"Helicone-Property-Team": "a"}) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
    assert "helicone-cache" not in raw.headers
    assert (await stored(helioscope, raw.headers["helicone-id"]))["cache_enabled"] is False


async def test_legacy_save_and_read_headers(helioscope: Running, fake: FakeProvider) -> None:
    async def call(**headers: str) -> httpx.Response:
        async with helioscope.http() as http:
            response = await http.post(
                "/oai/v1/chat/completions",
                json={"model": "gpt-4o-mini", "messages": MESSAGES},
                headers={"helicone-auth": f"Bearer {helioscope.key}", **headers},
            )
        await settle(helioscope)
        return response

    saved = await call(**{"helicone-cache-save": "true"})
    assert "helicone-cache" not in saved.headers  # MISS is sent only when reading is on
    # The key covers every helicone-cache* header, so reading needs the same set of headers.
    both = {"helicone-cache-save": "true", "helicone-cache-read": "true"}
    assert (await call(**both)).headers["helicone-cache"] == "MISS"
    assert (await call(**both)).headers["helicone-cache"] == "HIT"
    assert chat_calls(fake) == 2
