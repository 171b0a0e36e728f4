"""The wire mappings as pure functions: the edges the end-to-end tests do not reach."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from helioscope.providers.anthropic_chat import (
    AnthropicChunks,
    anthropic_to_chat,
    chat_to_anthropic,
)
from helioscope.providers.catalog import find_provider
from helioscope.providers.chat_parts import MappingError
from helioscope.providers.errors import from_anthropic, from_gemini
from helioscope.providers.gemini_chat import GeminiChunks, chat_to_gemini, gemini_to_chat
from helioscope.providers.mapping import Api, Mapping
from helioscope.providers.models import provider_model_name, serving_providers
from helioscope.providers.responses_chat import chat_to_responses, responses_to_chat
from helioscope.providers.sse import SseDecoder


def test_the_sse_decoder_survives_any_split() -> None:
    stream = 'event: a\ndata: {"text": "héllo"}\n\ndata: [DONE]\r\n\r\n'.encode()
    for cut in range(1, len(stream)):
        decoder = SseDecoder()
        events = decoder.feed(stream[:cut]) + decoder.feed(stream[cut:]) + decoder.close()
        assert events == ['{"text": "héllo"}'.encode(), b"[DONE]"]


def test_the_sse_decoder_reads_what_providers_send() -> None:
    decoder = SseDecoder()
    assert decoder.feed(b'event: x\ndata: {"a":1}\n\n') == [b'{"a":1}']
    # Several data lines join with newlines; comments, ids and events without data yield none.
    assert decoder.feed(b"data:a\ndata: b\n\n: keep-alive\n\nid: 3\ndata: c\n\n") == [
        b"a\nb",
        b"c",
    ]
    assert decoder.feed(b"event: data:x\n\n") == []


def test_a_stream_without_its_last_blank_line_still_gives_its_last_event() -> None:
    decoder = SseDecoder()
    assert decoder.feed(b"data: 1\n\ndata: 2") == [b"1"]
    assert decoder.close() == [b"2"]


def test_anthropic_usage_counts_cache_reads_and_writes_as_prompt_tokens() -> None:
    body = {
        "id": "msg_1",
        "model": "claude-sonnet-4-20250514",
        "content": [
            {"type": "thinking", "thinking": "Let me think."},
            {"type": "text", "text": "Hi"},
        ],
        "stop_reason": "max_tokens",
        "usage": {
            "input_tokens": 10,
            "cache_read_input_tokens": 30,
            "cache_creation_input_tokens": 5,
            "output_tokens": 7,
        },
    }
    chat = anthropic_to_chat(body, 123)
    assert chat["choices"][0]["finish_reason"] == "length"
    assert chat["choices"][0]["message"]["reasoning_content"] == "Let me think."
    assert chat["usage"]["prompt_tokens"] == 45
    assert chat["usage"]["prompt_tokens_details"] == {"cached_tokens": 30}
    assert chat["usage"]["total_tokens"] == 52


def test_consecutive_tool_results_merge_into_one_user_turn() -> None:
    chat = {
        "messages": [
            {"role": "developer", "content": "Rules."},
            {"role": "user", "content": "Two lookups"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                    {"id": "b", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                ],
            },
            {"role": "tool", "tool_call_id": "a", "content": "1"},
            {"role": "tool", "tool_call_id": "b", "content": [{"type": "text", "text": "2"}]},
        ],
        "temperature": 1.7,
        "max_completion_tokens": 99,
    }
    body = chat_to_anthropic(chat, "claude-x")
    assert body["system"] == "Rules."
    assert body["temperature"] == 1.0  # Anthropic's range ends at 1
    assert body["max_tokens"] == 99
    assert [t["role"] for t in body["messages"]] == ["user", "assistant", "user"]
    results = body["messages"][2]["content"]
    assert [(r["tool_use_id"], r["content"]) for r in results] == [("a", "1"), ("b", "2")]


def test_bad_tool_arguments_cannot_be_mapped() -> None:
    call = {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{oops"}}
    chat = {"messages": [{"role": "assistant", "content": None, "tool_calls": [call]}]}
    with pytest.raises(MappingError, match="arguments must be JSON"):
        chat_to_anthropic(chat, "m")
    with pytest.raises(MappingError, match="arguments must be JSON"):
        chat_to_gemini(chat)


def test_a_tool_result_for_gemini_must_answer_a_call() -> None:
    chat = {"messages": [{"role": "tool", "tool_call_id": "zz", "content": "1"}]}
    with pytest.raises(MappingError, match="answers no earlier tool call"):
        chat_to_gemini(chat)


def test_gemini_finish_reasons_thinking_and_cached_tokens() -> None:
    body = {
        "candidates": [
            {
                "content": {"parts": [{"text": "hidden", "thought": True}, {"text": "Shown"}]},
                "finishReason": "SAFETY",
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 20,
            "candidatesTokenCount": 3,
            "thoughtsTokenCount": 4,
            "cachedContentTokenCount": 8,
        },
        "modelVersion": "gemini-2.5-pro",
    }
    chat = gemini_to_chat(body, 1)
    assert chat["choices"][0]["message"]["content"] == "Shown"
    assert chat["choices"][0]["finish_reason"] == "content_filter"
    assert chat["usage"]["completion_tokens"] == 7  # thinking tokens are output tokens
    assert chat["usage"]["completion_tokens_details"] == {"reasoning_tokens": 4}
    assert chat["usage"]["prompt_tokens_details"] == {"cached_tokens": 8}


def test_stream_errors_become_openai_errors() -> None:
    anthropic = AnthropicChunks(False, 1)
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert anthropic.feed(error) == [
        {
            "error": {
                "message": "Overloaded",
                "type": "overloaded_error",
                "param": None,
                "code": None,
            }
        }
    ]
    gemini = GeminiChunks(False, 1)
    mapped = gemini.feed({"error": {"code": 503, "message": "busy", "status": "UNAVAILABLE"}})
    assert mapped[0]["error"]["code"] == "unavailable"


def test_error_bodies_map_whatever_their_shape() -> None:
    assert from_anthropic("not json", 500)["error"]["message"] == "Anthropic answered 500"
    assert from_gemini([{"error": {"message": "m", "status": "X"}}], 400)["error"]["code"] == "x"


def test_a_responses_request_and_an_incomplete_answer() -> None:
    chat = responses_to_chat(
        {
            "model": "m",
            "input": [
                {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
                {"type": "reasoning", "id": "r1"},
            ],
            "tool_choice": {"type": "function", "name": "f"},
            "max_output_tokens": 5,
        }
    )
    assert chat["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    assert chat["tool_choice"] == {"type": "function", "function": {"name": "f"}}
    completion = {
        "id": "c1",
        "model": "m",
        "choices": [{"message": {"content": "cut"}, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 5},
    }
    response = chat_to_responses(completion, {"model": "m"}, 1)
    assert response["status"] == "incomplete"
    assert response["incomplete_details"] == {"reason": "max_output_tokens"}
    with pytest.raises(MappingError, match="web_search"):
        responses_to_chat({"input": "x", "tools": [{"type": "web_search"}]})


def test_only_openai_serves_responses_natively() -> None:
    openai, groq = find_provider("openai"), find_provider("groq")
    assert openai is not None and groq is not None
    assert Mapping(Api.RESPONSES, openai, {"input": "x"}, 1).native
    mapped = Mapping(Api.RESPONSES, groq, {"input": "x", "stream": True}, 1)
    assert not mapped.native
    assert mapped.provider_body()["stream_options"] == {"include_usage": True}


def test_a_whole_stream_mapped_to_responses_events() -> None:
    anthropic = find_provider("anthropic")
    assert anthropic is not None
    mapper = Mapping(Api.RESPONSES, anthropic, {"input": "x"}, 1).stream_mapper()
    assert mapper is not None
    events: list[Any] = [
        {
            "type": "message_start",
            "message": {"id": "m", "model": "c", "usage": {"input_tokens": 3}},
        },
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 1},
        },
        {"type": "message_stop"},
    ]
    raw = b"".join(b"data: " + orjson.dumps(e) + b"\n\n" for e in events)
    out = (mapper.feed(raw) + mapper.close()).decode()
    names = [line[7:] for line in out.splitlines() if line.startswith("event: ")]
    assert names[0] == "response.created" and names[-1] == "response.completed"
    final = orjson.loads(out.rstrip().splitlines()[-1][6:])
    assert final["response"]["usage"]["input_tokens"] == 3
    assert final["response"]["output"][0]["content"][0]["text"] == "Hi"


def test_model_names_per_provider() -> None:
    assert serving_providers("gpt-4o-mini")[:2] == ("openai", "azure")
    assert serving_providers("claude-opus-4-1-20250805") == ("anthropic", "openrouter")
    assert serving_providers("some-model") == ()
    assert provider_model_name("claude-sonnet-4", "anthropic") == "claude-sonnet-4-20250514"
    assert provider_model_name("claude-sonnet-4", "openrouter") == "anthropic/claude-sonnet-4"
    assert provider_model_name("grok-3", "openrouter") == "x-ai/grok-3"
    assert provider_model_name("meta-llama/x", "openrouter") == "meta-llama/x"
