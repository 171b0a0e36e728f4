"""``response_format`` and ``n`` where the provider has no such field: Gemini and Anthropic."""

from __future__ import annotations

from typing import Any

import openai
import orjson
import pytest
from pydantic import BaseModel

from helioscope.testing import FakeProvider
from tests.ai_gateway.conftest import ai_client
from tests.conftest import Running
from tests.gateway.clients import stored

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine

ASK: Any = [{"role": "user", "content": "What is the weather in Paris?"}]
CLAUDE = "claude-sonnet-4/anthropic"
GEMINI = "gemini-2.0-flash/google"


class Weather(BaseModel):
    """The answer's shape: the SDK sends it as a strict JSON schema.

    The fake answers in the schema deterministically: ``days`` is the prompt's 6 words.
    """

    city: str
    days: int


async def test_gemini_json_object_asks_for_json(keyed: Running, fake: FakeProvider) -> None:
    async with ai_client(keyed) as client:
        completion = await client.chat.completions.create(
            model=GEMINI, messages=ASK, response_format={"type": "json_object"}
        )
    assert fake.last.json()["generationConfig"] == {"responseMimeType": "application/json"}
    content = completion.choices[0].message.content
    assert content is not None and orjson.loads(content) == {
        "reply": "Hello from the fake provider."
    }


async def test_gemini_json_schema_is_its_response_json_schema(
    keyed: Running, fake: FakeProvider
) -> None:
    async with ai_client(keyed) as client:
        completion = await client.chat.completions.parse(
            model=GEMINI, messages=ASK, response_format=Weather
        )
    config = fake.last.json()["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    schema = config["responseJsonSchema"]
    assert schema["properties"].keys() == {"city", "days"} and schema["required"] == [
        "city",
        "days",
    ]
    assert completion.choices[0].message.parsed == Weather(city="fake", days=6)


async def test_anthropic_json_schema_is_a_forced_tool_answered_as_content(
    keyed: Running, fake: FakeProvider
) -> None:
    async with ai_client(keyed) as client:
        raw = await client.chat.completions.with_raw_response.parse(
            model=CLAUDE, messages=ASK, response_format=Weather
        )
    sent = fake.last.json()
    [tool] = sent["tools"]
    assert tool["name"] == "json_tool_call"
    assert tool["input_schema"]["properties"].keys() == {"city", "days"}
    assert sent["tool_choice"] == {"type": "tool", "name": "json_tool_call"}
    choice = raw.parse().choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.tool_calls is None
    assert choice.message.content is not None
    assert orjson.loads(choice.message.content) == {"city": "fake", "days": 6}
    assert choice.message.parsed == Weather(city="fake", days=6)
    row = await stored(keyed, raw.headers["helicone-id"])
    assert (row["status"], row["provider"]) == (200, "ANTHROPIC")


async def test_anthropic_json_schema_streams_as_content(keyed: Running, fake: FakeProvider) -> None:
    async with ai_client(keyed) as client:
        async with client.chat.completions.stream(
            model=CLAUDE, messages=ASK, response_format=Weather
        ) as stream:
            pieces = [
                event.delta
                async for event in stream
                if event.type == "content.delta" and event.delta
            ]
            final = await stream.get_final_completion()
    assert len(pieces) == 2  # as Anthropic streamed the tool's input: piece by piece
    assert orjson.loads("".join(pieces)) == {"city": "fake", "days": 6}
    assert final.choices[0].finish_reason == "stop"
    assert final.choices[0].message.parsed == Weather(city="fake", days=6)
    assert not final.choices[0].message.tool_calls


async def test_anthropic_json_object_asks_for_json_in_the_system_prompt(
    keyed: Running, fake: FakeProvider
) -> None:
    messages: Any = [{"role": "system", "content": "You are terse."}, *ASK]
    async with ai_client(keyed) as client:
        await client.chat.completions.create(
            model=CLAUDE, messages=messages, response_format={"type": "json_object"}
        )
    sent = fake.last.json()
    assert sent["system"].startswith("You are terse.\n\n")
    assert "JSON object" in sent["system"]
    assert "tools" not in sent


class GetWeather(BaseModel):
    """A caller's own tool, strict as the SDK's ``parse`` wants its tools."""

    city: str


@pytest.mark.parametrize(
    ("choice", "parallel", "sent_choice"),
    [
        (None, None, {"type": "any"}),
        ("auto", None, {"type": "any"}),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        ("none", None, {"type": "tool", "name": "json_tool_call"}),
        (
            {"type": "function", "function": {"name": "GetWeather"}},
            None,
            {"type": "tool", "name": "GetWeather"},
        ),
    ],
    ids=["unset", "auto", "required-one-at-a-time", "none", "named"],
)
async def test_a_json_schema_beside_the_callers_tools_makes_the_model_use_a_tool(
    keyed: Running, fake: FakeProvider, choice: Any, parallel: Any, sent_choice: Any
) -> None:
    """Not prose (outside the schema), and not the JSON tool alone (the caller's never called)."""
    options: Any = {} if choice is None else {"tool_choice": choice}
    if parallel is not None:
        options["parallel_tool_calls"] = parallel
    async with ai_client(keyed) as client:
        await client.chat.completions.parse(
            model=CLAUDE,
            messages=ASK,
            tools=[openai.pydantic_function_tool(GetWeather)],
            response_format=Weather,
            **options,
        )
    sent = fake.last.json()
    assert [t["name"] for t in sent["tools"]] == ["GetWeather", "json_tool_call"]
    assert sent["tool_choice"] == sent_choice


async def test_the_callers_tool_is_called_then_the_answer_comes_in_the_schema(
    keyed: Running, fake: FakeProvider
) -> None:
    """The tool loop works as on OpenAI: a tool call first, then, with its result, the answer."""
    tools = [openai.pydantic_function_tool(GetWeather)]
    async with ai_client(keyed) as client:
        first = await client.chat.completions.parse(
            model=CLAUDE, messages=ASK, tools=tools, response_format=Weather
        )
        asked = first.choices[0]
        assert asked.finish_reason == "tool_calls" and asked.message.content is None
        [call] = asked.message.tool_calls or []
        assert call.function.name == "GetWeather"
        assert call.function.parsed_arguments == GetWeather(city="fake")
        result: Any = {"role": "tool", "tool_call_id": call.id, "content": "21C"}
        second = await client.chat.completions.parse(
            model=CLAUDE,
            messages=[*ASK, asked.message.model_dump(exclude_none=True), result],
            tools=tools,
            response_format=Weather,
        )
    answer = second.choices[0]
    assert answer.finish_reason == "stop" and not answer.message.tool_calls
    assert answer.message.parsed is not None and answer.message.parsed.city == "fake"


@pytest.mark.parametrize(
    ("tool", "problem"),
    [
        ({"type": "function"}, "tools[1]: a function tool needs a function object"),
        (
            {"type": "function", "function": {"name": "broken", "parameters": "city"}},
            "tools[1] ('broken'): function.parameters must be a JSON schema object",
        ),
        ({"type": "function", "function": {"name": ""}}, "function.name must be a non-empty"),
        ({"type": "custom", "custom": {"name": "grammar"}}, "got type 'custom'"),
    ],
)
async def test_a_malformed_tool_to_anthropic_is_refused_naming_it(
    keyed: Running, fake: FakeProvider, tool: Any, problem: str
) -> None:
    good: Any = {"type": "function", "function": {"name": "get_weather"}}
    async with ai_client(keyed) as client:
        with pytest.raises(openai.BadRequestError) as caught:
            await client.chat.completions.create(model=CLAUDE, messages=ASK, tools=[good, tool])
    assert problem in caught.value.message
    assert CLAUDE in caught.value.message
    assert fake.calls == []


async def test_gemini_n_returns_every_candidate(keyed: Running, fake: FakeProvider) -> None:
    async with ai_client(keyed) as client:
        completion = await client.chat.completions.create(model=GEMINI, messages=ASK, n=2)
    assert fake.last.json()["generationConfig"]["candidateCount"] == 2
    assert [c.index for c in completion.choices] == [0, 1]
    assert [c.message.content for c in completion.choices] == [
        "Hello from the fake provider.",
        "Hello from the fake provider, take 2.",
    ]
    assert [c.finish_reason for c in completion.choices] == ["stop", "stop"]
    usage = completion.usage
    assert usage is not None and usage.completion_tokens == 10  # both candidates', as Gemini says


async def test_gemini_n_streams_every_candidate(keyed: Running, fake: FakeProvider) -> None:
    async with ai_client(keyed) as client:
        stream = await client.chat.completions.create(
            model=GEMINI, messages=ASK, n=2, stream=True, stream_options={"include_usage": True}
        )
        chunks = [chunk async for chunk in stream]
    texts = ["", ""]
    finished: list[Any] = [None, None]
    for chunk in chunks:
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
            finished[choice.index] = choice.finish_reason or finished[choice.index]
    assert texts == ["Hello from the fake provider.", "Hello from the fake provider, take 2."]
    assert finished == ["stop", "stop"]
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens == 10
