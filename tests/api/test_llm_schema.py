"""``llmSchema``: every logged call's request and response in Helicone's normalised shape.

Calls are logged through Helicone's async log API (OpenAI and Anthropic bodies, tool calls,
images, tool results) and through the gateway (a stream from the fake provider); the
``llmSchema`` each request then answers must validate against the document's ``LlmSchema`` and
carry the conversation.
"""

from __future__ import annotations

import json
import time
from typing import Any

import orjson

from tests.api.test_conformance import DOCUMENT, json_schema, violations
from tests.conftest import Running
from tests.gateway.clients import PROVIDER_KEY

OPENAI_TOOLS = {
    "model": "gpt-4o-mini",
    "temperature": 0.2,
    "max_completion_tokens": 50,
    "tool_choice": "required",
    "tools": [
        {
            "type": "function",
            "function": {"name": "weather", "parameters": {"type": "object", "properties": {}}},
        }
    ],
    "messages": [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Weather here?"},
                {"type": "image_url", "image_url": {"url": "https://img.example/a.png"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "rain"},
    ],
}
OPENAI_ANSWER = {
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "It rains."}}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
}
ANTHROPIC = {
    "model": "claude-3-5-haiku-latest",
    "max_tokens": 64,
    "system": "You are terse.",
    "stop_sequences": ["END"],
    "messages": [
        {"role": "user", "content": "Add 2 and 3."},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Calling add."},
                {"type": "tool_use", "id": "tu_1", "name": "add", "input": {"a": 2, "b": 3}},
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": "5"}],
        },
    ],
    "tools": [{"name": "add", "description": "Adds.", "input_schema": {"type": "object"}}],
}
ANTHROPIC_ANSWER = {
    "type": "message",
    "role": "assistant",
    "model": "claude-3-5-haiku-20241022",
    "content": [{"type": "text", "text": "5."}],
    "usage": {"input_tokens": 20, "output_tokens": 2},
}


async def log(hs: Running, route: str, url: str, request: Any, response: Any) -> str:
    now = time.time()
    body = {
        "providerRequest": {"url": url, "json": request, "meta": {}},
        "providerResponse": {"status": 200, "json": response},
        "timing": {"startTime": now - 1, "endTime": now},
    }
    async with hs.http(headers=hs.auth()) as http:
        logged = await http.post(f"/{route}/v1/log", json=body)
    assert logged.status_code == 200, logged.text
    await hs.flush()
    return logged.headers["helicone-id"]


async def schema_of(hs: Running, request_id: str) -> Any:
    async with hs.http(headers=hs.auth()) as http:
        found = (await http.get(f"/v1/request/{request_id}")).json()["data"]
    document = json.loads(DOCUMENT.read_text())
    components = json_schema(document["components"]["schemas"])
    ref = {"$ref": "#/components/schemas/LlmSchema"}
    assert violations(ref, components, found["llmSchema"]) == []
    return found["llmSchema"]


async def test_an_openai_conversation_with_tools(helioscope: Running) -> None:
    url = "https://api.openai.com/v1/chat/completions"
    schema = await schema_of(
        helioscope, await log(helioscope, "oai", url, OPENAI_TOOLS, OPENAI_ANSWER)
    )
    request = schema["request"]
    assert (request["llm_type"], request["model"], request["provider"]) == (
        "chat",
        "gpt-4o-mini",
        "OPENAI",
    )
    assert (request["temperature"], request["max_tokens"]) == (0.2, 50)
    assert request["tool_choice"] == {"type": "any"}
    assert request["tools"] == [
        {"name": "weather", "description": "", "parameters": {"type": "object", "properties": {}}}
    ]
    system, user, call, result = request["messages"]
    assert system == {"_type": "message", "role": "system", "content": "Be brief."}
    assert [p["_type"] for p in user["contentArray"]] == ["message", "image"]
    assert user["contentArray"][1]["image_url"] == "https://img.example/a.png"
    assert call["_type"] == "functionCall"
    assert call["tool_calls"] == [{"name": "weather", "arguments": {"city": "Oslo"}}]
    assert (result["_type"], result["tool_call_id"], result["content"]) == (
        "function",
        "call_1",
        "rain",
    )
    assert schema["response"] == {
        "model": "gpt-4o-mini-2024-07-18",
        "messages": [{"_type": "message", "role": "assistant", "content": "It rains."}],
    }


async def test_an_anthropic_conversation_with_tools(helioscope: Running) -> None:
    url = "https://api.anthropic.com/v1/messages"
    request_id = await log(helioscope, "anthropic", url, ANTHROPIC, ANTHROPIC_ANSWER)
    schema = await schema_of(helioscope, request_id)
    request = schema["request"]
    assert (request["provider"], request["max_tokens"], request["stop"]) == (
        "ANTHROPIC",
        64,
        ["END"],
    )
    system, user, call, result = request["messages"]
    assert system == {"_type": "message", "role": "system", "content": "You are terse."}
    assert user == {"_type": "message", "role": "user", "content": "Add 2 and 3."}
    assert call == {
        "_type": "functionCall",
        "role": "assistant",
        "content": "Calling add.",
        "tool_calls": [{"name": "add", "arguments": {"a": 2, "b": 3}}],
    }
    assert result == {"_type": "function", "role": "tool", "content": "5", "tool_call_id": "tu_1"}
    assert request["tools"] == [
        {"name": "add", "description": "Adds.", "parameters": {"type": "object"}}
    ]
    assert schema["response"]["messages"] == [
        {"_type": "message", "role": "assistant", "content": "5."}
    ]


async def test_a_stream_through_the_gateway_is_put_back_together(helioscope: Running) -> None:
    body = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    async with helioscope.http() as http:
        response = await http.post(
            "/oai/v1/chat/completions",
            content=orjson.dumps(body),
            headers={
                "content-type": "application/json",
                "authorization": f"Bearer {PROVIDER_KEY}",
                "helicone-auth": f"Bearer {helioscope.key}",
            },
        )
    assert response.status_code == 200
    streamed = "".join(
        json.loads(line[5:])["choices"][0]["delta"].get("content") or ""
        for line in response.text.splitlines()
        if line.startswith("data:")
        and line.strip() != "data: [DONE]"
        and json.loads(line[5:]).get("choices")
    )
    await helioscope.flush()
    schema = await schema_of(helioscope, response.headers["helicone-id"])
    assert schema["request"]["stream"] is True
    [answer] = schema["response"]["messages"]
    assert answer == {"_type": "message", "role": "assistant", "content": streamed}
    assert streamed


async def test_an_anthropic_body_logged_as_custom_is_still_read(helioscope: Running) -> None:
    url = "https://llm.example/v1/messages"
    plain = {k: v for k, v in ANTHROPIC.items() if k != "system"}
    schema = await schema_of(
        helioscope, await log(helioscope, "custom", url, plain, ANTHROPIC_ANSWER)
    )
    assert schema["request"]["messages"][1]["_type"] == "functionCall"
    assert schema["response"]["messages"][0]["content"] == "5."


async def test_a_body_of_no_known_shape_has_no_schema(helioscope: Running) -> None:
    url = "https://example.com/v1/rank"
    request_id = await log(
        helioscope, "custom", url, {"query": "q", "documents": ["a"]}, {"ranks": [1]}
    )
    async with helioscope.http(headers=helioscope.auth()) as http:
        found = (await http.get(f"/v1/request/{request_id}")).json()["data"]
    assert found["llmSchema"] is None
