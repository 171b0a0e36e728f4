"""Anthropic's SDK, unmodified, with the gateway root as base URL: its format passes through."""

from __future__ import annotations

from typing import Any

import pytest
from anthropic import AsyncAnthropic, BadRequestError

from helioscope.testing import FakeProvider
from tests.ai_gateway.conftest import ANTHROPIC_KEY
from tests.conftest import Running
from tests.gateway.clients import stored

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine

MAPPING = {"Helicone-Gateway-Body-Mapping": "NO_MAPPING"}
HELLO: Any = [{"role": "user", "content": "Say hello to the world"}]


def client(hs: Running) -> AsyncAnthropic:
    return AsyncAnthropic(base_url=hs.url, api_key=hs.key, max_retries=0, default_headers=MAPPING)


async def test_a_message_passes_through_with_the_stored_key(
    keyed: Running, fake: FakeProvider
) -> None:
    async with client(keyed) as anthropic:
        raw = await anthropic.messages.with_raw_response.create(
            model="claude-3-7-sonnet-20250219/anthropic",
            max_tokens=64,
            messages=HELLO,
        )
    message = await raw.parse()
    text: Any = message.content[0]
    assert text.text == "Hello from the fake provider."
    sent = fake.last
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == ANTHROPIC_KEY  # not the Helioscope key the SDK sent
    assert sent.headers["anthropic-version"]  # the SDK's own version header travels
    assert sent.json() == {
        "model": "claude-3-7-sonnet-20250219",
        "max_tokens": 64,
        "messages": HELLO,
    }
    row = await stored(keyed, raw.headers["helicone-id"])
    assert (row["provider"], row["model"]) == ("ANTHROPIC", "claude-3-7-sonnet-20250219")
    assert row["prompt_tokens"] == 5


async def test_a_stream_with_tool_use_passes_through(keyed: Running) -> None:
    tool: Any = {
        "name": "get_weather",
        "description": "Weather",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    async with (
        client(keyed) as anthropic,
        anthropic.messages.stream(
            model="claude-sonnet-4/anthropic",
            max_tokens=64,
            messages=HELLO,
            tools=[tool],
            tool_choice={"type": "any"},
        ) as stream,
    ):
        final = await stream.get_final_message()
    block: Any = final.content[0]
    assert block.type == "tool_use" and block.name == "get_weather"
    assert block.input == {"city": "fake"}
    assert final.stop_reason == "tool_use"


async def test_a_model_of_another_format_is_refused_in_anthropic_shape(
    keyed: Running, fake: FakeProvider
) -> None:
    async with client(keyed) as anthropic:
        try:
            await anthropic.messages.create(
                model="gpt-4o-mini/openai",
                max_tokens=64,
                messages=HELLO,
            )
        except BadRequestError as exc:
            assert "NO_MAPPING" in exc.message
            assert isinstance(exc.body, dict) and exc.body["type"] == "error"
        else:
            raise AssertionError("expected a 400")
    assert fake.calls == []
