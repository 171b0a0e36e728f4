"""Tool calls in Anthropic's Messages format (``tool_use`` blocks) and OpenAI's Responses API.

Streamed, an Anthropic tool call is a ``content_block_start`` of type ``tool_use`` followed by
``input_json_delta`` pieces of its arguments, as Anthropic sends it; a Responses API one is a
``function_call`` output item and its ``response.function_call_arguments.*`` events.
"""

from __future__ import annotations

from typing import Any

import orjson

from helioscope.testing._tools import Function
from helioscope.testing._wire import _anthropic_usage, responses_body


def anthropic_tool_use(
    model: str, prompt: int, function: Function, override: str | None
) -> dict[str, Any]:
    """A Messages API ``message`` whose only block calls ``function``."""
    return {
        "id": "msg_fake_tool",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [
            {
                "type": "tool_use",
                "id": "toolu_fake",
                "name": function.name,
                "input": orjson.loads(function.arguments(prompt, override)),
            }
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": _anthropic_usage(prompt, 0, 7),
    }


def anthropic_tool_stream(
    model: str, prompt: int, function: Function, override: str | None
) -> list[tuple[str, Any]]:
    """The same message as Messages API stream events."""
    arguments = function.arguments(prompt, override)
    half = len(arguments) // 2
    start = {**anthropic_tool_use(model, prompt, function, override), "content": []}
    start.update(stop_reason=None, usage=_anthropic_usage(prompt, 0, 1))
    block = {"type": "tool_use", "id": "toolu_fake", "name": function.name, "input": {}}
    events: list[tuple[str, Any]] = [
        ("message_start", {"type": "message_start", "message": start}),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": block},
        ),
    ]
    for piece in (arguments[:half], arguments[half:]):
        delta = {"type": "input_json_delta", "partial_json": piece}
        events.append(
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
        )
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                "usage": {"output_tokens": 7},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return events


def responses_function_call(
    model: str, prompt: int, function: Function, override: str | None
) -> dict[str, Any]:
    """A Responses API ``response`` whose output is one ``function_call`` item."""
    body = responses_body(model, prompt, 0)
    body["output"] = [
        {
            "type": "function_call",
            "id": "fc_fake",
            "call_id": "call_fake",
            "name": function.name,
            "arguments": function.arguments(prompt, override),
            "status": "completed",
        }
    ]
    return body


def responses_function_call_stream(
    model: str, prompt: int, function: Function, override: str | None
) -> list[tuple[str, Any]]:
    """The same response as Responses API stream events, in OpenAI's order.

    ``response.created`` and ``response.in_progress``; the ``function_call`` item opened by
    ``response.output_item.added`` (empty arguments, ``in_progress``), its arguments in two
    ``response.function_call_arguments.delta`` pieces, ``.done`` with the whole, and the item
    closed by ``response.output_item.done``; then ``response.completed``. Every event carries
    its ``sequence_number``; there is no ``[DONE]``.
    """
    final = responses_function_call(model, prompt, function, override)
    item = final["output"][0]
    arguments = item["arguments"]
    half = len(arguments) // 2
    start = {**final, "status": "in_progress", "output": [], "usage": None}
    where = {"item_id": item["id"], "output_index": 0}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": start},
        {"type": "response.in_progress", "response": start},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**item, "arguments": "", "status": "in_progress"},
        },
        *(
            {"type": "response.function_call_arguments.delta", **where, "delta": piece}
            for piece in (arguments[:half], arguments[half:])
        ),
        {
            "type": "response.function_call_arguments.done",
            **where,
            "name": item["name"],
            "arguments": arguments,
        },
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        {"type": "response.completed", "response": final},
    ]
    return [(e["type"], {**e, "sequence_number": n}) for n, e in enumerate(events)]
