from __future__ import annotations

import orjson
import pytest
from anthropic.types import MessageParam

from helioscope.testing import FakeProvider
from tests.conftest import Running
from tests.gateway.clients import PROVIDER_KEY, anthropic_client, stored

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine

MESSAGES: list[MessageParam] = [{"role": "user", "content": "Tell me a short story please"}]


async def test_message_is_relayed_and_logged(helioscope: Running, fake: FakeProvider) -> None:
    async with anthropic_client(
        helioscope.on_socket(), **{"x-fake-cache-read-tokens": "2"}
    ) as client:
        raw = await client.messages.with_raw_response.create(
            model="claude-3-5-sonnet-20241022", max_tokens=64, messages=MESSAGES
        )
        message = await raw.parse()
    assert message.content[0].type == "text"
    assert message.content[0].text == "Hello from the fake provider."

    sent = fake.last
    assert sent.path == "/v1/messages"
    # The provider key travels in whichever header this SDK version uses, unchanged.
    assert PROVIDER_KEY in (
        sent.headers.get("x-api-key"),
        sent.headers.get("authorization", "")[7:],
    )
    assert "anthropic-version" in sent.headers
    assert "helicone-auth" not in sent.headers

    row = await stored(helioscope, raw.headers["helicone-id"])
    assert row["provider"] == "ANTHROPIC"
    assert row["model"] == "claude-3-5-sonnet-20241022"
    # Anthropic's input_tokens excludes cache reads; prompt_tokens counts every input token.
    assert row["prompt_tokens"] == 6
    assert row["prompt_cache_read_tokens"] == 2
    assert row["completion_tokens"] == 5
    assert row["total_tokens"] == 11
    assert row["cost"] is not None and row["cost"] > 0
    assert orjson.loads(row["request_body"])["messages"] == MESSAGES


async def test_stream_is_rebuilt_for_the_log(helioscope: Running, fake: FakeProvider) -> None:
    async with anthropic_client(helioscope.on_socket()) as client:
        async with client.messages.stream(
            model="claude-3-5-sonnet-20241022", max_tokens=64, messages=MESSAGES
        ) as stream:
            text = "".join([t async for t in stream.text_stream])
            final = await stream.get_final_message()
            request_id = stream.response.headers["helicone-id"]
    assert text == "Hello from the fake provider."
    assert final.usage.output_tokens == 5

    row = await stored(helioscope, request_id)
    assert row["is_stream"] is True
    assert row["prompt_tokens"] == 6
    assert row["completion_tokens"] == 5
    assert row["time_to_first_token"] is not None
    body = orjson.loads(row["response_body"])
    assert body["content"] == [{"type": "text", "text": "Hello from the fake provider."}]
    assert body["stop_reason"] == "end_turn"
