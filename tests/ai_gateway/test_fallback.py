"""Model chains: each entry tried in order on 429, 5xx, timeouts and connection errors."""

from __future__ import annotations

from typing import Any

import httpx
import openai
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


AUDIO: Any = [
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is said here?"},
            {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
        ],
    }
]


async def test_an_entry_without_a_provider_key_is_passed_over(
    keyed: Running, fake: FakeProvider
) -> None:
    """No xAI key is stored: Helicone tries the next entry rather than refusing the call."""
    async with ai_client(keyed) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="grok-3/xai,claude-sonnet-4/anthropic", messages=HELLO
        )
    assert raw.parse().choices[0].message.content == "Hello from the fake provider."
    assert [c.path for c in fake.calls] == ["/v1/messages"]
    assert raw.headers["helicone-provider"] == "anthropic"
    row = await stored(keyed, raw.headers["helicone-id"])
    assert (row["status"], row["provider"]) == (200, "ANTHROPIC")  # the entry that answered


async def test_an_entry_that_cannot_express_the_body_is_passed_over(
    keyed: Running, fake: FakeProvider
) -> None:
    """Anthropic takes no audio input: the chain goes on to OpenAI, which does."""
    async with ai_client(keyed) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="claude-sonnet-4/anthropic,gpt-4o-audio-preview/openai", messages=AUDIO
        )
    assert raw.parse().choices[0].message.content == "Hello from the fake provider."
    assert [c.path for c in fake.calls] == [OPENAI_PATH]
    assert fake.last.json()["messages"] == AUDIO  # OpenAI's own format, unchanged
    assert raw.headers["helicone-provider"] == "openai"
    row = await stored(keyed, raw.headers["helicone-id"])
    assert (row["status"], row["provider"]) == (200, "OPENAI")


async def test_a_chain_no_entry_of_which_can_be_used_names_each_and_why(
    keyed: Running, fake: FakeProvider
) -> None:
    async with ai_client(keyed) as client:
        with pytest.raises(openai.BadRequestError) as caught:
            await client.chat.completions.create(
                model="claude-sonnet-4,grok-3/xai,gemini-2.0-flash/google",
                messages=AUDIO,
            )
    message = caught.value.message
    assert "no entry of the chain can be used" in message
    # A bare model's entry is named with the provider it was to go to.
    assert "[1] claude-sonnet-4 (anthropic): " in message and "'input_audio'" in message
    assert "[2] grok-3/xai: " in message and "no provider key for xai" in message
    assert "[3] gemini-2.0-flash/google: " in message and "cannot go to Gemini" in message
    assert fake.calls == []
    row = await stored(keyed, caught.value.response.headers["helicone-id"])
    assert row["status"] == 400


async def test_a_bare_model_passes_over_a_provider_that_cannot_take_the_body(
    keyed: Running, fake: FakeProvider, other_fake: FakeProvider
) -> None:
    await store_key(keyed, "openrouter", "sk-or-1", {"baseUrl": other_fake.url})
    headers = {"Helicone-Gateway-Body-Mapping": "NO_MAPPING"}
    async with ai_client(keyed) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="claude-3-5-haiku,gpt-4o-mini/openai", messages=HELLO, extra_headers=headers
        )
    # Anthropic cannot take an OpenAI body unchanged; OpenRouter (OpenAI's format) can.
    assert raw.headers["helicone-provider"] == "openrouter"
    assert fake.calls == []
