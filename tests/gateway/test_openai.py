from __future__ import annotations

import orjson
import pytest
from openai import AsyncStream
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from helioscope.testing import FakeProvider
from tests.conftest import Running
from tests.gateway.clients import PROVIDER_KEY, openai_client, stored

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hello to the world"}]


async def test_chat_completion_is_relayed_and_logged(
    helioscope: Running, fake: FakeProvider
) -> None:
    async with openai_client(helioscope.on_socket()) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES, user="end-user-7"
        )
    completion = raw.parse()
    assert completion.choices[0].message.content == "Hello from the fake provider."
    request_id = raw.headers["helicone-id"]

    # The provider saw the caller's provider key and none of the Helicone headers.
    sent = fake.last
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {PROVIDER_KEY}"
    assert not [h for h in sent.headers if h.startswith("helicone-")]

    row = await stored(helioscope, request_id)
    assert row["status"] == 200
    assert row["provider"] == "OPENAI"
    assert row["model"] == "gpt-4o-mini"
    assert row["prompt_tokens"] == 5
    assert row["completion_tokens"] == 5
    assert row["total_tokens"] == 10
    assert row["user_id"] == "end-user-7"
    assert row["cost"] is not None and row["cost"] > 0
    assert row["time_to_first_token"] is None
    assert row["latency"] is not None
    assert orjson.loads(row["request_body"])["messages"] == MESSAGES
    assert orjson.loads(row["response_body"])["choices"][0]["message"]["content"].startswith(
        "Hello"
    )
    assert row["target_url"] == f"{fake.url}/v1/chat/completions"


async def test_stream_arrives_and_is_logged_with_usage(
    helioscope: Running, fake: FakeProvider
) -> None:
    async with openai_client(helioscope.on_socket(), **{"Helicone-Stream-Usage": "true"}) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
        stream = raw.parse()
        assert isinstance(stream, AsyncStream)
        chunks: list[ChatCompletionChunk] = [c async for c in stream]
        pieces = [
            c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
        ]
    assert "".join(pieces) == "Hello from the fake provider."
    assert fake.last.json()["stream_options"] == {"include_usage": True}

    row = await stored(helioscope, raw.headers["helicone-id"])
    assert row["is_stream"] is True
    assert row["prompt_tokens"] == 5 and row["completion_tokens"] == 5
    assert row["time_to_first_token"] is not None
    body = orjson.loads(row["response_body"])
    assert body["choices"][0]["message"]["content"] == "Hello from the fake provider."
