"""Every OpenAI endpoint family the gateway reads usage from, and the generic gateway route."""

from __future__ import annotations

import orjson
from openai import AsyncOpenAI, AsyncStream
from openai.types.responses import ResponseStreamEvent

from helioscope.testing import FakeProvider
from tests.conftest import Running
from tests.gateway.clients import PROVIDER_KEY, openai_client, stored


async def test_legacy_completions(helioscope: Running) -> None:
    async with openai_client(helioscope.on_socket(), prefix="/openai") as client:
        raw = await client.completions.with_raw_response.create(
            model="gpt-3.5-turbo-instruct", prompt="Once upon a time"
        )
    assert raw.parse().choices[0].text == "Hello from the fake provider."
    row = await stored(helioscope, raw.headers["helicone-id"])
    assert (row["prompt_tokens"], row["completion_tokens"]) == (4, 5)
    assert row["model"] == "gpt-3.5-turbo-instruct"


async def test_embeddings(helioscope: Running) -> None:
    async with openai_client(helioscope.on_socket()) as client:
        raw = await client.embeddings.with_raw_response.create(
            model="text-embedding-3-small", input=["one two three", "four"]
        )
    embeddings = raw.parse()
    assert len(embeddings.data) == 2
    assert round(embeddings.data[0].embedding[1], 3) == 0.2
    row = await stored(helioscope, raw.headers["helicone-id"])
    assert row["prompt_tokens"] == 4
    assert row["completion_tokens"] is None
    assert row["total_tokens"] == 4
    assert row["cost"] is not None


async def test_responses_api(helioscope: Running) -> None:
    async with openai_client(helioscope.on_socket(), **{"x-fake-cache-read-tokens": "1"}) as client:
        raw = await client.responses.with_raw_response.create(
            model="gpt-4o-mini", input="write a haiku"
        )
    assert raw.parse().output_text == "Hello from the fake provider."
    row = await stored(helioscope, raw.headers["helicone-id"])
    assert (row["prompt_tokens"], row["completion_tokens"], row["total_tokens"]) == (3, 5, 8)
    assert row["prompt_cache_read_tokens"] == 1
    assert row["reasoning_tokens"] == 0


async def test_responses_api_stream(helioscope: Running) -> None:
    async with openai_client(helioscope.on_socket()) as client:
        raw = await client.responses.with_raw_response.create(
            model="gpt-4o-mini", input="write a haiku", stream=True
        )
        stream = raw.parse()
        assert isinstance(stream, AsyncStream)
        events: list[ResponseStreamEvent] = [e async for e in stream]
    assert events[-1].type == "response.completed"
    row = await stored(helioscope, raw.headers["helicone-id"])
    assert row["is_stream"] is True
    assert (row["prompt_tokens"], row["completion_tokens"]) == (3, 5)
    assert orjson.loads(row["response_body"])["status"] == "completed"


async def test_generic_gateway_route(helioscope: Running, fake: FakeProvider) -> None:
    client = AsyncOpenAI(
        base_url=f"{helioscope.url}/gateway/v1",
        api_key=PROVIDER_KEY,
        max_retries=0,
        default_headers={
            "Helicone-Auth": f"Bearer {helioscope.key}",
            "Helicone-Target-URL": fake.url,
        },
    )
    async with client:
        raw = await client.chat.completions.with_raw_response.create(
            model="llama-3-70b", messages=[{"role": "user", "content": "hello"}]
        )
    assert raw.parse().choices[0].message.content == "Hello from the fake provider."
    assert fake.last.path == "/v1/chat/completions"
    assert "helicone-target-url" not in fake.last.headers
    row = await stored(helioscope, raw.headers["helicone-id"])
    assert row["provider"] == "CUSTOM"  # a loopback host is no provider we know
    assert row["target_url"] == f"{fake.url}/v1/chat/completions"
    assert row["model"] == "llama-3-70b"


async def test_query_string_is_forwarded(helioscope: Running, fake: FakeProvider) -> None:
    async with openai_client(helioscope.on_socket()) as client:
        await client.models.list(extra_query={"limit": "3"})
    assert fake.last.path == "/v1/models"
    assert fake.last.query == "limit=3"
    assert fake.last.method == "GET"
    await helioscope.flush()
