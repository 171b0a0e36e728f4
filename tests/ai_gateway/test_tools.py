"""Tool calls (definitions, tool_choice, calls and results) and images, across providers."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from helioscope.testing import FakeProvider
from tests.ai_gateway.conftest import ai_client
from tests.conftest import Running
from tests.gateway.clients import stored

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine

WEATHER: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer", "maximum": 7}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}
ASK: Any = [{"role": "user", "content": "What is the weather in Paris?"}]
FORCED: Any = {"type": "function", "function": {"name": "get_weather"}}
MODELS = ["claude-sonnet-4/anthropic", "gemini-2.0-flash/google", "gpt-4o-mini/openai"]


async def test_a_forced_tool_call_comes_back_as_tool_calls(keyed: Running) -> None:
    for model in MODELS:
        await _forced_call(keyed, model)


async def _forced_call(keyed: Running, model: str) -> None:
    async with ai_client(keyed) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model=model,
            messages=ASK,
            tools=[WEATHER],
            tool_choice=FORCED,
        )
    choice = raw.parse().choices[0]
    assert choice.finish_reason == "tool_calls"
    calls: Any = choice.message.tool_calls
    assert calls is not None and len(calls) == 1
    assert calls[0].function.name == "get_weather"
    assert orjson.loads(calls[0].function.arguments) == {"city": "fake", "days": 6}
    row = await stored(keyed, raw.headers["helicone-id"])
    assert row["status"] == 200


async def test_tool_definitions_and_choice_in_anthropic_terms(
    keyed: Running, fake: FakeProvider
) -> None:
    async with ai_client(keyed) as client:
        await client.chat.completions.create(
            model="claude-sonnet-4/anthropic",
            messages=ASK,
            tools=[WEATHER],
            tool_choice="required",
            parallel_tool_calls=False,
        )
    body = fake.last.json()
    assert body["tools"] == [
        {
            "name": "get_weather",
            "description": "The weather in a city",
            "input_schema": WEATHER["function"]["parameters"],
        }
    ]
    assert body["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}


async def test_tool_definitions_and_choice_in_gemini_terms(
    keyed: Running, fake: FakeProvider
) -> None:
    async with ai_client(keyed) as client:
        await client.chat.completions.create(
            model="gemini-2.0-flash/google",
            messages=ASK,
            tools=[WEATHER],
            tool_choice=FORCED,
        )
    body = fake.last.json()
    declaration = body["tools"][0]["functionDeclarations"][0]
    assert declaration["name"] == "get_weather"
    assert "additionalProperties" not in declaration["parameters"]  # Gemini refuses it
    assert body["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}
    }


async def test_a_tool_result_round_trip(keyed: Running, fake: FakeProvider) -> None:
    """The call's result goes back as each provider expects it, and the model answers in text."""
    for model in MODELS:
        await _round_trip(keyed, fake, model)


async def _round_trip(keyed: Running, fake: FakeProvider, model: str) -> None:
    async with ai_client(keyed) as client:
        first = await client.chat.completions.create(
            model=model,
            messages=ASK,
            tools=[WEATHER],
            tool_choice=FORCED,
        )
        calls: Any = first.choices[0].message.tool_calls
        call = calls[0]
        history: list[Any] = [
            *ASK,
            first.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": '{"temperature": 21}'},
        ]
        second = await client.chat.completions.create(
            model=model,
            messages=history,
            tools=[WEATHER],
        )
    assert second.choices[0].message.content == "Hello from the fake provider."
    sent = fake.last.json()
    if model.endswith("/anthropic"):
        assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]
        assert sent["messages"][1]["content"][0]["type"] == "tool_use"
        result = sent["messages"][2]["content"][0]
        assert result == {
            "type": "tool_result",
            "tool_use_id": call.id,
            "content": '{"temperature": 21}',
        }
    elif model.endswith("/google"):
        assert [c["role"] for c in sent["contents"]] == ["user", "model", "user"]
        assert sent["contents"][1]["parts"][0]["functionCall"]["name"] == "get_weather"
        response = sent["contents"][2]["parts"][0]["functionResponse"]
        assert response == {"name": "get_weather", "response": {"temperature": 21}}


async def test_a_streamed_tool_call(keyed: Running) -> None:
    for model in MODELS:
        await _streamed_call(keyed, model)


async def _streamed_call(keyed: Running, model: str) -> None:
    async with ai_client(keyed) as client:
        stream = await client.chat.completions.create(
            model=model,
            messages=ASK,
            tools=[WEATHER],
            tool_choice=FORCED,
            stream=True,
        )
        chunks = [chunk async for chunk in stream]
    pieces = [call for c in chunks if c.choices for call in c.choices[0].delta.tool_calls or []]
    assert pieces[0].function is not None and pieces[0].function.name == "get_weather"
    assert pieces[0].id
    arguments = "".join(p.function.arguments or "" for p in pieces if p.function)
    assert orjson.loads(arguments) == {"city": "fake", "days": 6}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"


PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0"
    "C8AAAAASUVORK5CYII="
)


async def test_images_reach_each_provider_in_its_format(keyed: Running, fake: FakeProvider) -> None:
    content = [
        {"type": "text", "text": "What is in these pictures?"},
        {"type": "image_url", "image_url": {"url": PIXEL}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
    ]
    messages: Any = [{"role": "user", "content": content}]
    async with ai_client(keyed) as client:
        await client.chat.completions.create(model="claude-sonnet-4/anthropic", messages=messages)
        anthropic = fake.last.json()["messages"][0]["content"]
        await client.chat.completions.create(model="gemini-2.0-flash/google", messages=messages)
        gemini = fake.last.json()["contents"][0]["parts"]
    data = PIXEL.split(",", 1)[1]
    assert anthropic[1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": data},
    }
    assert anthropic[2] == {
        "type": "image",
        "source": {"type": "url", "url": "https://example.com/cat.png"},
    }
    assert gemini[1] == {"inlineData": {"mimeType": "image/png", "data": data}}
    assert gemini[2] == {
        "fileData": {"mimeType": "image/png", "fileUri": "https://example.com/cat.png"}
    }
