"""OpenAI's SDK, unmodified, against the gateway root with only a Helioscope key."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from helioscope.testing import FakeProvider
from tests.ai_gateway.conftest import ANTHROPIC_KEY, GEMINI_KEY, OPENAI_KEY, ai_client
from tests.conftest import Running
from tests.gateway.clients import stored

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine

HELLO: Any = [{"role": "user", "content": "Say hello to the world"}]


async def test_chat_to_openai_uses_the_stored_key(keyed: Running, fake: FakeProvider) -> None:
    async with ai_client(keyed) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini/openai",
            messages=HELLO,
        )
    completion = raw.parse()
    assert completion.choices[0].message.content == "Hello from the fake provider."
    sent = fake.last
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert sent.json()["model"] == "gpt-4o-mini"
    assert raw.headers["helicone-provider"] == "openai"
    row = await stored(keyed, raw.headers["helicone-id"])
    assert row["provider"] == "OPENAI"
    assert row["model"] == "gpt-4o-mini"
    assert row["request_referrer"] == "ai-gateway"
    assert row["cost"] is not None and row["cost"] > 0


async def test_chat_to_anthropic_is_translated_both_ways(
    keyed: Running, fake: FakeProvider
) -> None:
    messages: Any = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Say hello to the world"},
    ]
    async with ai_client(keyed) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="claude-sonnet-4/anthropic",
            messages=messages,
            max_tokens=50,
            stop=["END"],
        )
    completion = raw.parse()
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == "Hello from the fake provider."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens == 5
    sent = fake.last
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == ANTHROPIC_KEY
    assert "authorization" not in sent.headers
    body = sent.json()
    assert body["model"] == "claude-sonnet-4-20250514"
    assert body["system"] == "You are terse."
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Say hello to the world"}]}
    ]
    assert body["max_tokens"] == 50
    assert body["stop_sequences"] == ["END"]
    row = await stored(keyed, raw.headers["helicone-id"])
    assert row["provider"] == "ANTHROPIC"
    assert row["model"] == "claude-sonnet-4-20250514"
    assert row["target_url"] == f"{fake.url}/v1/messages"
    # The log keeps the bodies as the provider received and sent them.
    assert orjson.loads(row["request_body"])["system"] == "You are terse."
    assert orjson.loads(row["response_body"])["type"] == "message"
    assert row["prompt_tokens"] == 8 and row["completion_tokens"] == 5
    assert row["cost"] is not None and row["cost"] > 0


async def test_chat_to_gemini(keyed: Running, fake: FakeProvider) -> None:
    async with ai_client(keyed) as client:
        completion = await client.chat.completions.create(
            model="gemini-2.0-flash/google",
            messages=HELLO,
        )
    assert completion.choices[0].message.content == "Hello from the fake provider."
    sent = fake.last
    assert sent.path == "/v1beta/models/gemini-2.0-flash:generateContent"
    assert sent.headers["x-goog-api-key"] == GEMINI_KEY
    assert sent.json()["contents"] == [
        {"role": "user", "parts": [{"text": "Say hello to the world"}]}
    ]


@pytest.mark.parametrize(
    "model", ["gpt-4o-mini/openai", "claude-sonnet-4/anthropic", "gemini-2.0-flash/google"]
)
async def test_the_body_user_is_the_logged_user_whichever_provider_answers(
    keyed: Running, model: str
) -> None:
    # Only OpenAI's format has ``user``: the log reads it from the client's request.
    async with ai_client(keyed) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model=model, messages=HELLO, user="alice"
        )
    row = await stored(keyed, raw.headers["helicone-id"])
    assert row["user_id"] == "alice"


async def _stream_text(keyed: Running, model: str, **options: Any) -> tuple[str, list[Any], str]:
    async with ai_client(keyed) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model=model,
            messages=HELLO,
            stream=True,
            **options,
        )
        chunks = [chunk async for chunk in raw.parse()]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return text, chunks, raw.headers["helicone-id"]


async def test_anthropic_stream_arrives_as_chat_chunks(keyed: Running, fake: FakeProvider) -> None:
    text, chunks, request_id = await _stream_text(
        keyed, "claude-3-5-sonnet-20241022/anthropic", stream_options={"include_usage": True}
    )
    assert text == "Hello from the fake provider."
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens == 5 and chunks[-1].usage.completion_tokens == 5
    assert fake.last.json()["stream"] is True
    row = await stored(keyed, request_id)
    assert row["is_stream"] is True
    assert row["provider"] == "ANTHROPIC"
    assert row["completion_tokens"] == 5
    assert row["time_to_first_token"] is not None


@pytest.mark.parametrize("model", ["gpt-4o-mini/openai", "claude-3-5-sonnet-20241022/anthropic"])
async def test_every_stream_carries_its_usage_as_on_helicone(
    keyed: Running, fake: FakeProvider, model: str
) -> None:
    # Helicone's AI Gateway asks every provider for a stream's usage, asked for or not: without
    # it an OpenAI-format stream is logged with neither tokens nor cost.
    _, chunks, request_id = await _stream_text(keyed, model, stream_options={"foo": 1})
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 5
    if fake.last.path == "/v1/chat/completions":
        assert fake.last.json()["stream_options"] == {"foo": 1, "include_usage": True}
    row = await stored(keyed, request_id)
    assert row["completion_tokens"] == 5
    assert row["cost"] is not None and row["cost"] > 0


async def test_gemini_stream(keyed: Running, fake: FakeProvider) -> None:
    text, chunks, request_id = await _stream_text(
        keyed, "gemini-2.0-flash/google", stream_options={"include_usage": True}
    )
    assert text == "Hello from the fake provider."
    assert fake.last.path == "/v1beta/models/gemini-2.0-flash:streamGenerateContent"
    assert fake.last.query == "alt=sse"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5
    row = await stored(keyed, request_id)
    assert (row["provider"], row["model"], row["completion_tokens"]) == (
        "GOOGLE",
        "gemini-2.0-flash",
        5,
    )


async def test_openai_stream_is_relayed_unchanged(keyed: Running) -> None:
    text, chunks, _ = await _stream_text(keyed, "gpt-4o-mini")
    assert text == "Hello from the fake provider."
    assert chunks[0].id == "chatcmpl-fake"


async def test_the_sdk_with_the_bare_root_as_base_url(keyed: Running, fake: FakeProvider) -> None:
    async with ai_client(keyed, root=True) as client:
        completion = await client.chat.completions.create(
            model="claude-sonnet-4/anthropic",
            messages=HELLO,
        )
    assert completion.choices[0].message.content == "Hello from the fake provider."
    assert fake.last.path == "/v1/messages"


async def test_a_generic_openai_compatible_upstream(
    keyed: Running, other_fake: FakeProvider
) -> None:
    from tests.ai_gateway.conftest import store_key

    await store_key(
        keyed, "my-vllm", "local-key", {"baseUrl": f"{other_fake.url}", "models": "qwen2.5"}
    )
    async with ai_client(keyed) as client:
        by_provider = await client.chat.completions.create(
            model="llama3/my-vllm",
            messages=HELLO,
        )
        by_model = await client.chat.completions.create(model="qwen2.5", messages=HELLO)
    assert by_provider.model == "llama3" and by_model.model == "qwen2.5"
    assert [c.path for c in other_fake.calls] == ["/v1/chat/completions"] * 2
    assert other_fake.last.headers["authorization"] == "Bearer local-key"


async def test_a_known_compatible_provider_at_its_configured_address(
    keyed: Running, other_fake: FakeProvider
) -> None:
    from tests.ai_gateway.conftest import store_key

    await store_key(keyed, "groq", "gsk-groq", {"baseUrl": f"{other_fake.url}"})
    async with ai_client(keyed) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="llama-3.3-70b-versatile",
            messages=HELLO,
        )
    assert raw.parse().choices[0].message.content == "Hello from the fake provider."
    assert other_fake.last.headers["authorization"] == "Bearer gsk-groq"
    row = await stored(keyed, raw.headers["helicone-id"])
    assert row["provider"] == "GROQ"


async def test_an_azure_deployment(keyed: Running, other_fake: FakeProvider) -> None:
    from tests.ai_gateway.conftest import store_key

    config = {"baseUri": other_fake.url, "deploymentName": "prod-4o", "apiVersion": "2024-10-21"}
    await store_key(keyed, "azure", "az-key", config)
    async with ai_client(keyed) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o/azure", messages=HELLO
        )
    assert raw.parse().choices[0].message.content == "Hello from the fake provider."
    sent = other_fake.last
    assert (sent.path, sent.query) == (
        "/openai/deployments/prod-4o/chat/completions",
        "api-version=2024-10-21",
    )
    assert sent.headers["api-key"] == "az-key" and "authorization" not in sent.headers
    row = await stored(keyed, raw.headers["helicone-id"])
    assert row["provider"] == "AZURE"
