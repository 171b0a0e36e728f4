"""The Responses API's ``text.format`` where the provider has no such field: Gemini, Anthropic.

It reaches them as a chat call's ``response_format`` does (``providers.response_format``), so
``client.responses.parse(text_format=...)`` works against either, streamed or not.
"""

from __future__ import annotations

from typing import Any

import openai
import orjson
import pytest

from helioscope.testing import FakeProvider
from tests.ai_gateway.conftest import ai_client
from tests.ai_gateway.test_structured import CLAUDE, GEMINI, Weather
from tests.conftest import Running
from tests.gateway.clients import stored

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine

ASK = "What is the weather in Paris?"  # 6 words: the fake's Weather has days=6
WEATHER = Weather(city="fake", days=6)


def _asked_for_the_schema(model: str, sent: dict[str, Any]) -> None:
    if model == CLAUDE:
        [tool] = sent["tools"]
        assert tool["name"] == "json_tool_call"
        assert tool["input_schema"]["properties"].keys() == {"city", "days"}
        assert sent["tool_choice"] == {"type": "tool", "name": "json_tool_call"}
    else:
        config = sent["generationConfig"]
        assert config["responseMimeType"] == "application/json"
        assert config["responseJsonSchema"]["required"] == ["city", "days"]


@pytest.mark.parametrize("model", [CLAUDE, GEMINI])
async def test_responses_parse(keyed: Running, fake: FakeProvider, model: str) -> None:
    async with ai_client(keyed) as client:
        raw = await client.responses.with_raw_response.parse(
            model=model, input=ASK, text_format=Weather
        )
    response = raw.parse()
    _asked_for_the_schema(model, fake.last.json())
    assert response.status == "completed"
    assert response.output_parsed == WEATHER
    assert [item.type for item in response.output] == ["message"]  # no tool call: the answer
    assert orjson.loads(response.output_text) == WEATHER.model_dump()
    assert response.text is not None and response.text.format is not None
    assert response.text.format.type == "json_schema"
    row = await stored(keyed, raw.headers["helicone-id"])
    assert row["status"] == 200 and row["completion_tokens"]


@pytest.mark.parametrize("model", [CLAUDE, GEMINI])
async def test_a_streamed_responses_parse(keyed: Running, fake: FakeProvider, model: str) -> None:
    async with ai_client(keyed) as client:
        async with client.responses.stream(model=model, input=ASK, text_format=Weather) as stream:
            deltas = [e.delta async for e in stream if e.type == "response.output_text.delta"]
            final = await stream.get_final_response()
    _asked_for_the_schema(model, fake.last.json())
    assert orjson.loads("".join(deltas)) == WEATHER.model_dump()
    assert final.output_parsed == WEATHER
    assert [item.type for item in final.output] == ["message"]


async def test_json_object_to_anthropic_and_gemini(keyed: Running, fake: FakeProvider) -> None:
    text: Any = {"format": {"type": "json_object"}}
    async with ai_client(keyed) as client:
        await client.responses.create(model=GEMINI, input=ASK, text=text)
        assert fake.last.json()["generationConfig"] == {"responseMimeType": "application/json"}
        await client.responses.create(model=CLAUDE, input=ASK, text=text, instructions="Be terse.")
    sent = fake.last.json()
    assert sent["system"].startswith("Be terse.\n\n") and "JSON object" in sent["system"]
    assert "tools" not in sent


async def test_a_text_format_passes_through_to_openai(keyed: Running, fake: FakeProvider) -> None:
    async with ai_client(keyed) as client:
        await client.responses.create(
            model="gpt-4o-mini/openai", input=ASK, text={"format": {"type": "json_object"}}
        )
    assert fake.last.path == "/v1/responses"
    assert fake.last.json()["text"] == {"format": {"type": "json_object"}}


async def test_an_unknown_text_format_is_refused(keyed: Running, fake: FakeProvider) -> None:
    text: Any = {"format": {"type": "yaml"}}
    async with ai_client(keyed) as client:
        with pytest.raises(openai.BadRequestError) as caught:
            await client.responses.create(model=CLAUDE, input=ASK, text=text)
    assert "text.format.type must be one of text, json_object, json_schema" in (
        caught.value.message
    )
    assert fake.calls == []
