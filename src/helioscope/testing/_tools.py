"""The fake provider's answer to a chat call that forces a tool: one call of that function.

Arguments follow the function's JSON schema and are deterministic in the prompt's word count
``n``: a boolean is ``n`` even, an enum picks item ``n mod len``, a number between ``minimum``
and ``maximum`` is ``minimum + n mod (maximum - minimum + 1)``, a string is ``"fake"``. The
``x-fake-tool-arguments`` header (JSON) replaces them outright.
"""

from __future__ import annotations

from typing import Any

import orjson

from helioscope.testing._wire import CREATED, _openai_usage


def _value(schema: dict[str, Any], n: int) -> Any:
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][n % len(schema["enum"])]
    kind = schema.get("type")
    if kind == "boolean":
        return n % 2 == 0
    if kind in ("number", "integer"):
        low, high = int(schema.get("minimum", 0)), int(schema.get("maximum", 10))
        return low + n % (high - low + 1)
    return "fake"


def chosen_function(data: dict[str, Any]) -> dict[str, Any] | None:
    """The function a call forces: ``tool_choice`` naming one, or ``"required"`` (the first).

    With tools offered but not forced (``"auto"``, the default) the fake answers in text, as a
    model may.
    """
    tools = [t.get("function") or {} for t in data.get("tools") or [] if isinstance(t, dict)]
    choice = data.get("tool_choice")
    if not tools:
        return None
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        return next((t for t in tools if t.get("name") == name), tools[0])
    return tools[0] if choice == "required" else None


def openai_tool_call(
    model: str, prompt: int, function: dict[str, Any], override: str | None
) -> dict[str, Any]:
    """A ``chat.completion`` whose message calls ``function``."""
    if override is not None:
        arguments = override
    else:
        properties = (function.get("parameters") or {}).get("properties") or {}
        arguments = orjson.dumps({k: _value(v, prompt) for k, v in properties.items()}).decode()
    call = {
        "id": "call_fake",
        "type": "function",
        "function": {"name": function.get("name", "tool"), "arguments": arguments},
    }
    return {
        "id": "chatcmpl-fake-tool",
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                "logprobs": None,
                "finish_reason": "tool_calls",
            }
        ],
        "usage": _openai_usage(prompt, 0),
    }
