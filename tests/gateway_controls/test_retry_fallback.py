from __future__ import annotations

import time

import httpx
import orjson
import pytest

from helioscope.gateway.controls._upstream import retry_after_seconds
from helioscope.testing import FakeProvider
from tests.conftest import Running
from tests.gateway.clients import PROVIDER_KEY, anthropic_client, openai_client, stored

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine


@pytest.fixture
def backend() -> str:
    return "embedded"  # retries and fallbacks keep no state


FAST = {
    "Helicone-Retry-Enabled": "true",
    "Helicone-Retry-Num": "3",
    "Helicone-Retry-Min-Timeout": "1",
    "Helicone-Retry-Max-Timeout": "2000",
}
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}


async def post(hs: Running, headers: dict[str, str], prefix: str = "/oai") -> httpx.Response:
    async with hs.http() as http:
        return await http.post(
            f"{prefix}/v1/chat/completions",
            json=BODY,
            headers={
                "authorization": f"Bearer {PROVIDER_KEY}",
                "helicone-auth": f"Bearer {hs.key}",
                **headers,
            },
        )


async def test_retries_on_5xx_and_429_until_success(
    helioscope: Running, fake: FakeProvider
) -> None:
    fake.fail_next(500)
    fake.fail_next(429)
    fake.fail_next(503)
    async with openai_client(helioscope, **FAST) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}]
        )
    assert raw.http_response.status_code == 200
    assert len(fake.calls) == 4
    row = await stored(helioscope, raw.headers["helicone-id"])
    assert row["status"] == 200


async def test_anthropic_calls_retry_too(helioscope: Running, fake: FakeProvider) -> None:
    fake.fail_next(529)
    async with anthropic_client(helioscope, **FAST) as client:
        message = await client.messages.create(
            model="claude-3-5-sonnet-20241022",
            max_tokens=20,
            messages=[{"role": "user", "content": "hello"}],
        )
    assert message.content
    assert len(fake.calls) == 2


async def test_gives_up_after_the_number_of_retries(
    helioscope: Running, fake: FakeProvider
) -> None:
    fake.fail_next(500, times=5)
    response = await post(helioscope, {**FAST, "Helicone-Retry-Num": "2"})
    assert response.status_code == 500
    assert len(fake.calls) == 3


async def test_without_retry_enabled_the_error_is_returned(
    helioscope: Running, fake: FakeProvider
) -> None:
    fake.fail_next(500)
    response = await post(helioscope, {"Helicone-Retry-Num": "3"})
    assert response.status_code == 500
    assert len(fake.calls) == 1


async def test_retry_after_is_honoured(helioscope: Running, fake: FakeProvider) -> None:
    fake.fail_next(429, retry_after="1")
    started = time.perf_counter()
    response = await post(helioscope, FAST)
    assert response.status_code == 200
    assert time.perf_counter() - started >= 1.0
    assert len(fake.calls) == 2


async def test_retry_after_beyond_the_max_timeout_returns_the_429(
    helioscope: Running, fake: FakeProvider
) -> None:
    fake.fail_next(429, retry_after="60")
    started = time.perf_counter()
    response = await post(helioscope, FAST)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "60"
    assert time.perf_counter() - started < 1.0
    assert len(fake.calls) == 1


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds("2.5") == 2.5
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


async def test_fallbacks_move_on_when_the_status_matches(
    helioscope: Running, fake: FakeProvider
) -> None:
    fallbacks = [
        {"target-url": fake.url, "headers": {"x-fake-status": "503"}, "onCodes": [500, 503]},
        {
            "target-url": fake.url,
            "headers": {"x-fake-status": "502"},
            "onCodes": [{"from": 500, "to": 599}],
        },
        {
            "target-url": fake.url,
            "headers": {},
            "onCodes": [500],
            "bodyKeyOverride": {"model": "gpt-4o"},
        },
    ]
    response = await post(helioscope, {"Helicone-Fallbacks": orjson.dumps(fallbacks).decode()})
    assert response.status_code == 200
    assert response.headers["helicone-fallback-index"] == "2"
    assert [c.headers.get("x-fake-status") for c in fake.calls] == ["503", "502", None]
    assert fake.last.json()["model"] == "gpt-4o"
    row = await stored(helioscope, response.headers["helicone-id"])
    assert row["status"] == 200
    assert row["model"] == "gpt-4o"


async def test_the_last_fallback_answers_whatever_its_status(
    helioscope: Running, fake: FakeProvider
) -> None:
    fallbacks = [
        {"target-url": fake.url, "headers": {"x-fake-status": "500"}, "onCodes": [500]},
        {"target-url": fake.url, "headers": {"x-fake-status": "500"}, "onCodes": [500]},
    ]
    response = await post(helioscope, {"Helicone-Fallbacks": orjson.dumps(fallbacks).decode()})
    assert response.status_code == 500
    assert response.headers["helicone-fallback-index"] == "1"


async def test_a_status_outside_on_codes_stops_at_that_entry(
    helioscope: Running, fake: FakeProvider
) -> None:
    fallbacks = [
        {"target-url": fake.url, "headers": {"x-fake-status": "400"}, "onCodes": [500]},
        {"target-url": fake.url, "headers": {}, "onCodes": [500]},
    ]
    response = await post(helioscope, {"Helicone-Fallbacks": orjson.dumps(fallbacks).decode()})
    assert response.status_code == 400
    assert response.headers["helicone-fallback-index"] == "0"
    assert len(fake.calls) == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"target-url": "http://x"}', "helicone-fallbacks must be an array"),
        (
            '[{"target-url": "http://x"}]',
            "helicone-fallbacks must have target-url, headers, and onCodes",
        ),
        (
            '[{"target-url": "http://x", "headers": null, "onCodes": [500]}]',
            "helicone-fallbacks must have target-url, headers, and onCodes",
        ),
        (
            '[{"target-url": "http://x", "headers": "h", "onCodes": [500]}]',
            "helicone-fallbacks headers must be an object of string keys and string values",
        ),
        (
            '[{"target-url": "http://x", "headers": {"a": 1}, "onCodes": [500]}]',
            "helicone-fallbacks headers must be an object of string keys and string values",
        ),
        (
            '[{"target-url": "http://x", "headers": {}, "onCodes": "oops"}]',
            "helicone-fallbacks onCodes must be an array of numbers or {from, to} objects",
        ),
        (
            '[{"target-url": "http://x", "headers": {}, "onCodes": [{"from": 500}]}]',
            "helicone-fallbacks onCodes must be an array of numbers or {from, to} objects",
        ),
        (
            '[{"target-url": "http://x", "headers": {}, "onCodes": [null]}]',
            "helicone-fallbacks onCodes must be an array of numbers or {from, to} objects",
        ),
        (
            '[{"target-url": 5, "headers": {}, "onCodes": [500]}]',
            "helicone-fallbacks target-url must be a string",
        ),
        ("not json", "helicone-fallbacks must be valid JSON"),
    ],
)
async def test_malformed_fallbacks_are_400s_worded_as_helicone_words_them(
    helioscope: Running, fake: FakeProvider, value: str, message: str
) -> None:
    response = await post(helioscope, {"Helicone-Fallbacks": value})
    assert response.status_code == 400
    assert response.json() == {"data": None, "error": message}
    assert fake.calls == []
