"""Response bodies and stream events in the providers' real wire formats (deterministic)."""

from __future__ import annotations

from typing import Any

REPLY = "Hello from the fake provider."
REPLY_PIECES = ["Hello", " from", " the", " fake", " provider."]
COMPLETION_TOKENS = len(REPLY_PIECES)
CREATED = 1_764_000_000


def count_words(value: Any) -> int:
    """A stand-in tokenizer: the number of whitespace-separated words in every string inside."""
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(count_words(v) for v in value)
    if isinstance(value, dict):
        return sum(count_words(v) for k, v in value.items() if k in ("content", "text"))
    return 0


def openai_error(status: int) -> dict[str, Any]:
    """OpenAI's error body."""
    kind = "rate_limit_exceeded" if status == 429 else "server_error"
    return {"error": {"message": f"fake error {status}", "type": kind, "param": None, "code": kind}}


def anthropic_error(status: int) -> dict[str, Any]:
    """Anthropic's error body."""
    kind = "rate_limit_error" if status == 429 else "api_error"
    return {"type": "error", "error": {"type": kind, "message": f"fake error {status}"}}


def _openai_usage(prompt: int, cache_read: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": COMPLETION_TOKENS,
        "total_tokens": prompt + COMPLETION_TOKENS,
        "prompt_tokens_details": {"cached_tokens": cache_read, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


def openai_chat(model: str, prompt: int, cache_read: int) -> dict[str, Any]:
    """A ``chat.completion`` body."""
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": REPLY, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": _openai_usage(prompt, cache_read),
        "system_fingerprint": "fp_fake",
    }


def openai_chat_stream(model: str, prompt: int, cache_read: int, include_usage: bool) -> list[Any]:
    """``chat.completion.chunk`` events, then usage if asked for, then ``[DONE]``."""
    base = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "system_fingerprint": "fp_fake",
    }
    events: list[Any] = [
        {
            **base,
            "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
            ],
        }
    ]
    for piece in REPLY_PIECES:
        events.append(
            {**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
        )
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    if include_usage:
        events.append({**base, "choices": [], "usage": _openai_usage(prompt, cache_read)})
    events.append("[DONE]")
    return events


def openai_completion(model: str, prompt: int) -> dict[str, Any]:
    """A legacy ``text_completion`` body."""
    return {
        "id": "cmpl-fake",
        "object": "text_completion",
        "created": CREATED,
        "model": model,
        "choices": [{"text": REPLY, "index": 0, "logprobs": None, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": COMPLETION_TOKENS,
            "total_tokens": prompt + COMPLETION_TOKENS,
        },
    }


def openai_completion_stream(model: str, prompt: int, include_usage: bool) -> list[Any]:
    """Legacy completion stream events."""
    base = {"id": "cmpl-fake", "object": "text_completion", "created": CREATED, "model": model}
    events: list[Any] = [
        {**base, "choices": [{"text": piece, "index": 0, "logprobs": None, "finish_reason": None}]}
        for piece in REPLY_PIECES
    ]
    events.append(
        {**base, "choices": [{"text": "", "index": 0, "logprobs": None, "finish_reason": "stop"}]}
    )
    if include_usage:
        events.append(
            {
                **base,
                "choices": [],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": COMPLETION_TOKENS,
                    "total_tokens": prompt + COMPLETION_TOKENS,
                },
            }
        )
    events.append("[DONE]")
    return events


def responses_body(model: str, prompt: int, cache_read: int) -> dict[str, Any]:
    """A Responses API ``response`` object."""
    return {
        "id": "resp_fake",
        "object": "response",
        "created_at": CREATED,
        "status": "completed",
        "model": model,
        "output": [
            {
                "type": "message",
                "id": "msg_fake",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": REPLY, "annotations": []}],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": cache_read},
            "output_tokens": COMPLETION_TOKENS,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt + COMPLETION_TOKENS,
        },
    }


def responses_stream(model: str, prompt: int, cache_read: int) -> list[tuple[str, Any]]:
    """Responses API stream events, ending with ``response.completed``."""
    final = responses_body(model, prompt, cache_read)
    start = {**final, "status": "in_progress", "output": [], "usage": None}
    events: list[tuple[str, Any]] = [
        ("response.created", {"type": "response.created", "sequence_number": 0, "response": start})
    ]
    for seq, piece in enumerate(REPLY_PIECES, start=1):
        events.append(
            (
                "response.output_text.delta",
                {
                    "type": "response.output_text.delta",
                    "sequence_number": seq,
                    "item_id": "msg_fake",
                    "output_index": 0,
                    "content_index": 0,
                    "delta": piece,
                    "logprobs": [],
                },
            )
        )
    events.append(
        (
            "response.completed",
            {
                "type": "response.completed",
                "sequence_number": len(REPLY_PIECES) + 1,
                "response": final,
            },
        )
    )
    return events


def _anthropic_usage(prompt: int, cache_read: int, output: int) -> dict[str, Any]:
    return {
        "input_tokens": max(prompt - cache_read, 0),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cache_read,
        "output_tokens": output,
    }


def anthropic_message(model: str, prompt: int, cache_read: int) -> dict[str, Any]:
    """A Messages API ``message`` body."""
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": REPLY}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": _anthropic_usage(prompt, cache_read, COMPLETION_TOKENS),
    }


def anthropic_stream(model: str, prompt: int, cache_read: int) -> list[tuple[str, Any]]:
    """Messages API stream events, ``message_start`` to ``message_stop``."""
    start = {**anthropic_message(model, prompt, cache_read), "content": [], "stop_reason": None}
    start["usage"] = _anthropic_usage(prompt, cache_read, 1)
    events: list[tuple[str, Any]] = [
        ("message_start", {"type": "message_start", "message": start}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        ("ping", {"type": "ping"}),
    ]
    for piece in REPLY_PIECES:
        events.append(
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": piece},
                },
            )
        )
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": COMPLETION_TOKENS},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return events
