"""Model chains: each entry tried in order on 429, 5xx, timeouts and connection errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from helioscope import Settings
from helioscope.testing import FakeProvider
from tests.ai_gateway.conftest import ai_client, store_key
from tests.conftest import Running
from tests.gateway.clients import stored

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine

HELLO: Any = [{"role": "user", "content": "hello"}]
CHAIN = "gpt-4o/openai,claude-sonnet-4/anthropic"
OPENAI_PATH = "/v1/chat/completions"


async def _chat(hs: Running, model: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=hs.url) as http:
        return await http.post(
            "/v1/chat/completions",
            json={"model": model, "messages": HELLO},
            headers={"authorization": f"Bearer {hs.key}", **headers},
        )


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_the_next_entry_answers_when_the_first_fails(
    keyed: Running, fake: FakeProvider, status: int
) -> None:
    fake.fail_next(status, path=OPENAI_PATH)
    response = await _chat(keyed, CHAIN)
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "Hello from the fake provider."
    assert [c.path for c in fake.calls] == [OPENAI_PATH, "/v1/messages"]
    assert response.headers["helicone-fallback-index"] == "1"
    assert response.headers["helicone-provider"] == "anthropic"
    row = await stored(keyed, response.headers["helicone-id"])
    assert (row["status"], row["provider"]) == (200, "ANTHROPIC")
    assert row["target_url"].endswith("/v1/messages")


async def test_an_excluded_provider_is_tried_for_no_entry(
    keyed: Running, fake: FakeProvider
) -> None:
    # Helicone's global ignore: ``!openai`` anywhere in the chain skips OpenAI for every entry.
    response = await _chat(keyed, f"{CHAIN},gpt-4o-mini,!openai")
    assert response.status_code == 200, response.text
    assert [c.path for c in fake.calls] == ["/v1/messages"]
    assert response.headers["helicone-provider"] == "anthropic"


async def test_a_client_error_is_not_a_reason_to_fall_back(
    keyed: Running, fake: FakeProvider
) -> None:
    fake.fail_next(400, path=OPENAI_PATH)
    response = await _chat(keyed, CHAIN)
    assert response.status_code == 400
    assert response.headers["helicone-fallback-index"] == "0"
    assert len(fake.calls) == 1


async def test_a_reset_connection_falls_back(keyed: Running, fake: FakeProvider) -> None:
    fake.reset_next(path=OPENAI_PATH)
    response = await _chat(keyed, CHAIN)
    assert response.status_code == 200
    assert response.headers["helicone-provider"] == "anthropic"


async def test_when_every_entry_fails_the_last_answer_is_returned_in_openai_shape(
    keyed: Running, fake: FakeProvider
) -> None:
    fake.fail_next(503, path=OPENAI_PATH)
    fake.fail_next(529, path="/v1/messages")
    response = await _chat(keyed, CHAIN)
    assert response.status_code == 529
    error = response.json()["error"]
    assert error["message"] == "fake error 529" and error["type"] == "api_error"


async def test_when_the_last_entry_cannot_be_reached_the_gateway_answers_502(
    keyed: Running, fake: FakeProvider
) -> None:
    fake.fail_next(500, path=OPENAI_PATH)
    fake.reset_next(path="/v1/messages")
    response = await _chat(keyed, CHAIN)
    assert response.status_code == 502
    assert "could not reach upstream" in response.json()["error"]["message"]
    row = await stored(keyed, response.headers["helicone-id"])
    assert row["status"] == 502


async def test_a_bare_model_tries_each_provider_serving_it(
    keyed: Running, fake: FakeProvider, other_fake: FakeProvider
) -> None:
    await store_key(keyed, "openrouter", "sk-or-1", {"baseUrl": other_fake.url})
    fake.fail_next(502, path=OPENAI_PATH)
    response = await _chat(keyed, "gpt-4o-mini")
    assert response.status_code == 200
    assert response.headers["helicone-provider"] == "openrouter"
    assert other_fake.last.json()["model"] == "openai/gpt-4o-mini"  # OpenRouter's name
    assert other_fake.last.headers["authorization"] == "Bearer sk-or-1"


async def test_retries_apply_to_each_entry_before_moving_on(
    keyed: Running, fake: FakeProvider
) -> None:
    fake.fail_next(500, times=2, path=OPENAI_PATH)
    retry = {"Helicone-Retry-Enabled": "true", "Helicone-Retry-Num": "1"}
    retry["Helicone-Retry-Min-Timeout"] = "1"
    response = await _chat(keyed, CHAIN, **retry)
    assert response.headers["helicone-provider"] == "anthropic"
    assert [c.path for c in fake.calls] == [OPENAI_PATH, OPENAI_PATH, "/v1/messages"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A short upstream timeout, so a stalled provider times out within the test."""
    return settings.model_copy(update={"upstream_timeout_seconds": 0.5})


async def test_a_timeout_falls_back_and_streams_from_the_next(
    keyed: Running, fake: FakeProvider
) -> None:
    fake.stall_next(2.0, path=OPENAI_PATH)
    async with ai_client(keyed) as client:
        stream = await client.chat.completions.create(model=CHAIN, messages=HELLO, stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "Hello from the fake provider."
    assert fake.last.path == "/v1/messages"
