"""OpenAI's Responses API through the gateway: native to OpenAI, mapped to everyone else."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from helioscope.testing import FakeProvider
from tests.ai_gateway.conftest import ai_client
from tests.conftest import Running
from tests.gateway.clients import stored

# The gateway in front of the store: its assertions hold on any engine (tests/conftest.py).
pytestmark = pytest.mark.one_engine


async def test_responses_to_openai_pass_through(keyed: Running, fake: FakeProvider) -> None:
    async with ai_client(keyed) as client:
        raw = await client.responses.with_raw_response.create(
            model="gpt-4o-mini/openai", input="Say hello", instructions="Be terse."
        )
    response = raw.parse()
    assert response.output_text == "Hello from the fake provider."
    assert fake.last.path == "/v1/responses"
    assert fake.last.json() == {
        "model": "gpt-4o-mini",
        "input": "Say hello",
        "instructions": "Be terse.",
    }
    row = await stored(keyed, raw.headers["helicone-id"])
    assert (row["provider"], row["path"]) == ("OPENAI", "/v1/responses")
    assert row["completion_tokens"] == 5


@pytest.mark.parametrize(
    "state",
    [{"previous_response_id": "resp_1"}, {"conversation": "conv_1"}],
    ids=["previous_response_id", "conversation"],
)
async def test_a_stored_conversation_is_refused_for_a_chat_provider(
    keyed: Running, fake: FakeProvider, state: dict[str, Any]
) -> None:
    """Anthropic has none of the turns OpenAI stored: an answer without them would be wrong."""
    async with ai_client(keyed) as client:
        with pytest.raises(openai.BadRequestError) as caught:
            await client.responses.create(
                model="claude-sonnet-4/anthropic", input="And then?", **state
            )
    assert f"{next(iter(state))}: the conversations it names are stored by OpenAI" in (
        caught.value.message
    )
    assert fake.calls == []


@pytest.mark.parametrize("model", ["claude-sonnet-4/anthropic", "gemini-2.0-flash/google"])
async def test_responses_to_a_chat_provider(keyed: Running, fake: FakeProvider, model: str) -> None:
    async with ai_client(keyed) as client:
        raw = await client.responses.with_raw_response.create(
            model=model, input="Say hello", instructions="Be terse.", max_output_tokens=40
        )
    response = raw.parse()
    assert response.object == "response"
    assert response.status == "completed"
    assert response.output_text == "Hello from the fake provider."
    assert response.usage is not None and response.usage.output_tokens == 5
    sent = fake.last.json()
    if model.endswith("/anthropic"):
        assert (sent["system"], sent["max_tokens"]) == ("Be terse.", 40)
    else:
        assert sent["systemInstruction"] == {"parts": [{"text": "Be terse."}]}
    row = await stored(keyed, raw.headers["helicone-id"])
    assert row["completion_tokens"] == 5 and row["cost"] is not None


async def test_a_responses_stream_mapped_from_anthropic(keyed: Running) -> None:
    async with ai_client(keyed) as client:
        stream = await client.responses.create(
            model="claude-sonnet-4/anthropic", input="Say hello", stream=True
        )
        events: list[Any] = [event async for event in stream]
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert "response.output_item.added" in kinds and "response.output_text.done" in kinds
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "Hello from the fake provider."
    final = events[-1].response
    assert final.output_text == "Hello from the fake provider."
    assert final.usage is not None and final.usage.output_tokens == 5
    assert [e.sequence_number for e in events] == list(range(len(events)))


async def test_the_sdk_stream_helper_accumulates_a_mapped_stream(keyed: Running) -> None:
    async with ai_client(keyed) as client:
        async with client.responses.stream(
            model="gemini-2.0-flash/google", input="Say hello"
        ) as stream:
            final = await stream.get_final_response()
    assert final.output_text == "Hello from the fake provider."


async def test_a_function_call_through_responses(keyed: Running) -> None:
    tool: Any = {
        "type": "function",
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    async with ai_client(keyed) as client:
        response = await client.responses.create(
            model="claude-sonnet-4/anthropic",
            input="Weather in Paris?",
            tools=[tool],
            tool_choice="required",
        )
        call: Any = response.output[0]
        assert call.type == "function_call" and call.name == "get_weather"
        follow = await client.responses.create(
            model="claude-sonnet-4/anthropic",
            input=[
                {"role": "user", "content": "Weather in Paris?"},
                call.model_dump(exclude_none=True),
                {"type": "function_call_output", "call_id": call.call_id, "output": "21C"},
            ],
            tools=[tool],
        )
    assert follow.output_text == "Hello from the fake provider."


# OpenAI's events for a streamed function call, in order (a mapped stream sends the same).
FUNCTION_CALL_EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.output_item.done",
    "response.completed",
]


@pytest.mark.parametrize("model", ["gpt-4o-mini/openai", "claude-sonnet-4/anthropic"])
async def test_a_streamed_function_call(keyed: Running, fake: FakeProvider, model: str) -> None:
    """OpenAI's stream passes through; Anthropic's ``tool_use`` stream is mapped to the same."""
    tool: Any = {
        "type": "function",
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        "strict": None,
    }
    async with ai_client(keyed) as client:
        async with client.responses.stream(
            model=model, input="Weather in Paris?", tools=[tool], tool_choice="required"
        ) as stream:
            events: list[Any] = [event async for event in stream]
            final = await stream.get_final_response()
    assert [e.type for e in events] == FUNCTION_CALL_EVENTS
    assert [e.sequence_number for e in events] == list(range(len(events)))
    # The SDK assembled the arguments from the deltas, as it read them.
    snapshots = [e.snapshot for e in events if e.type == "response.function_call_arguments.delta"]
    assert snapshots[-1] == '{"city":"fake"}' and snapshots[0] != snapshots[-1]
    done = events[-3]
    assert (done.name, done.arguments) == ("get_weather", '{"city":"fake"}')
    [call] = final.output
    assert call.type == "function_call"
    assert (call.name, call.status) == ("get_weather", "completed")
    assert call.arguments == '{"city":"fake"}'
    assert call.call_id and call.id == events[2].item.id == done.item_id
    sent = fake.last
    if model.endswith("/openai"):
        assert sent.path == "/v1/responses" and sent.json()["stream"] is True
    else:
        assert sent.path == "/v1/messages" and sent.json()["tool_choice"] == {"type": "any"}
