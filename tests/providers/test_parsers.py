"""Usage and bodies read back from provider responses, streamed and not."""

from __future__ import annotations

import orjson

from helioscope.providers import anthropic, openai, parse_sse
from helioscope.providers.usage import Usage


def sse(*events: object, names: list[str] | None = None) -> str:
    out = []
    for index, event in enumerate(events):
        data = event if isinstance(event, str) else orjson.dumps(event).decode()
        prefix = f"event: {names[index]}\n" if names else ""
        out.append(f"{prefix}data: {data}\n\n")
    return "".join(out)


def test_sse_keeps_complete_events_of_a_cut_stream() -> None:
    text = 'data: {"a": 1}\n\ndata: {"b": 2}\n\ndata: {"c"'
    assert [e.data for e in parse_sse(text, complete=False)] == ['{"a": 1}', '{"b": 2}']
    assert len(parse_sse(text + "}\n\n")) == 3
    assert parse_sse("event: ping\r\ndata: x\r\n\r\n")[0].event == "ping"


def test_openai_tool_call_deltas_are_merged() -> None:
    base = {"id": "c1", "object": "chat.completion.chunk", "model": "gpt-4o"}
    chunks = [
        {
            **base,
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": ""},
                            }
                        ],
                    },
                }
            ],
        },
        {
            **base,
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]},
                }
            ],
        },
        {
            **base,
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]},
                }
            ],
        },
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        {
            **base,
            "choices": [],
            "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
        },
        "[DONE]",
    ]
    parsed = openai.parse_stream(parse_sse(sse(*chunks)))
    call = parsed.body["choices"][0]["message"]["tool_calls"][0]
    assert call["id"] == "call_1"
    assert call["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert parsed.body["choices"][0]["finish_reason"] == "tool_calls"
    assert parsed.body["object"] == "chat.completion"
    assert parsed.usage == Usage(prompt_tokens=7, completion_tokens=3, total_tokens=10)


def test_openai_stream_without_usage_has_no_tokens() -> None:
    chunk = {
        "id": "c",
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "hi"}}],
    }
    parsed = openai.parse_stream(parse_sse(sse(chunk, "[DONE]")))
    assert parsed.usage.prompt_tokens is None
    assert parsed.body["choices"][0]["message"]["content"] == "hi"


def test_openai_usage_details() -> None:
    usage = openai.read_usage(
        {
            "prompt_tokens": 100,
            "completion_tokens": 50,
            "total_tokens": 150,
            "prompt_tokens_details": {"cached_tokens": 40, "audio_tokens": 5},
            "completion_tokens_details": {"reasoning_tokens": 20, "audio_tokens": 2},
        }
    )
    assert usage == Usage(100, 50, 150, 40, None, 20, 5, 2)
    assert openai.read_usage("nonsense") == Usage()
    assert openai.read_usage({"prompt_tokens": True}).prompt_tokens is None
    # Details that are null or not objects count nothing (and fail nothing).
    odd = {"prompt_tokens": 3, "prompt_tokens_details": None, "completion_tokens_details": [1]}
    assert openai.read_usage(odd) == Usage(3, None, 3)
    # A count that is not an int (a whole float, a bool, text) still goes through as_int.
    floats = {
        "prompt_tokens": 10.0,
        "completion_tokens": True,
        "total_tokens": "12",
        "prompt_tokens_details": {"cached_tokens": 4.0, "audio_tokens": False},
        "completion_tokens_details": {"reasoning_tokens": 2.5, "audio_tokens": 1.0},
    }
    assert openai.read_usage(floats) == Usage(10, None, 10, 4, None, None, None, 1)


def test_anthropic_tool_use_stream() -> None:
    events = [
        {
            "type": "message_start",
            "message": {
                "id": "m",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [],
                "usage": {
                    "input_tokens": 10,
                    "cache_creation_input_tokens": 4,
                    "cache_read_input_tokens": 6,
                    "output_tokens": 1,
                },
            },
        },
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "tool_use", "id": "t1", "name": "lookup", "input": {}},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": '{"q": "'},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": 'x"}'},
        },
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use"},
            "usage": {"output_tokens": 9},
        },
        {"type": "message_stop"},
    ]
    parsed = anthropic.parse_stream(parse_sse(sse(*events)))
    assert parsed.body["content"][0]["input"] == {"q": "x"}
    assert parsed.body["stop_reason"] == "tool_use"
    assert parsed.model == "claude-sonnet-4-5"
    assert parsed.usage == Usage(
        prompt_tokens=20,
        completion_tokens=9,
        total_tokens=29,
        prompt_cache_read_tokens=6,
        prompt_cache_write_tokens=4,
    )


def test_non_dict_bodies_are_tolerated() -> None:
    assert openai.parse_body([1, 2]).usage == Usage()
    assert anthropic.parse_body(None).model is None
