"""The fake provider's answer to a call that forces a tool: one call of that function.

Arguments follow the function's JSON schema and are deterministic in the prompt's word count
``n``: a boolean is ``n`` even, an enum picks item ``n mod len``, a number between ``minimum``
and ``maximum`` is ``minimum + n mod (maximum - minimum + 1)``, a string is ``"fake"``. The
``x-fake-tool-arguments`` header (JSON) replaces them outright.

Each wire format says "call a tool" its own way (OpenAI's ``tool_choice``, Anthropic's
``{"type": "any" | "tool"}``, Gemini's ``functionCallingConfig``); ``chosen_*`` read them into
one ``Function`` (name and parameter schema). With tools offered but not forced the fake answers
in text, as a model may; made to use any tool, it calls one it has not called yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from helioscope.testing._wire import CREATED, _openai_usage


@dataclass(frozen=True, slots=True)
class Function:
    """The function a call forces, as its wire format declared it."""

    name: str
    parameters: dict[str, Any]

    def arguments(self, prompt: int, override: str | None) -> str:
        """The call's arguments as JSON text."""
        if override is not None:
            return override
        properties = self.parameters.get("properties") or {}
        return orjson.dumps({k: _value(v, prompt) for k, v in properties.items()}).decode()


def _value(schema: dict[str, Any], n: int) -> Any:
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][n % len(schema["enum"])]
    kind = str(schema.get("type", "")).lower()
    if kind == "boolean":
        return n % 2 == 0
    if kind in ("number", "integer"):
        low, high = int(schema.get("minimum", 0)), int(schema.get("maximum", 10))
        return low + n % (high - low + 1)
    if kind == "object":
        properties = schema.get("properties") or {}
        return {k: _value(v, n) for k, v in properties.items() if isinstance(v, dict)}
    if kind == "array":
        items = schema.get("items")
        return [_value(items, n)] if isinstance(items, dict) else []
    return "fake"


def _pick(functions: list[Function], name: Any) -> Function:
    return next((f for f in functions if f.name == name), functions[0])


def chosen_function(data: dict[str, Any]) -> Function | None:
    """OpenAI chat: ``tool_choice`` naming a function, or ``"required"`` (the first)."""
    functions = [
        Function(str(f.get("name", "tool")), f.get("parameters") or {})
        for t in data.get("tools") or []
        if isinstance(t, dict) and isinstance(f := t.get("function"), dict)
    ]
    choice = data.get("tool_choice")
    if not functions:
        return None
    if isinstance(choice, dict):
        return _pick(functions, (choice.get("function") or {}).get("name"))
    return functions[0] if choice == "required" else None


def chosen_responses_function(data: dict[str, Any]) -> Function | None:
    """OpenAI Responses: function tools are flat (``{"type": "function", "name", ...}``)."""
    functions = [
        Function(str(t.get("name", "tool")), t.get("parameters") or {})
        for t in data.get("tools") or []
        if isinstance(t, dict) and t.get("type") == "function"
    ]
    choice = data.get("tool_choice")
    if not functions:
        return None
    if isinstance(choice, dict):
        return _pick(functions, choice.get("name"))
    return functions[0] if choice == "required" else None


def _called(messages: Any) -> set[str]:
    """The tools an Anthropic conversation's assistant turns have called already."""
    called: set[str] = set()
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        content = message.get("content")
        for block in content if isinstance(content, list) else []:
            if isinstance(block, dict) and block.get("type") == "tool_use":
                called.add(str(block.get("name")))
    return called


def chosen_anthropic_tool(data: dict[str, Any]) -> Function | None:
    """Anthropic: ``tool_choice`` of type ``any`` or ``tool`` (by name).

    With ``any``, the first tool the conversation has not called yet (a model that has a
    tool's result moves on to another), else the first.
    """
    functions = [
        Function(str(t.get("name", "tool")), t.get("input_schema") or {})
        for t in data.get("tools") or []
        if isinstance(t, dict)
    ]
    choice = data.get("tool_choice")
    if not functions or not isinstance(choice, dict):
        return None
    if choice.get("type") == "tool":
        return _pick(functions, choice.get("name"))
    if choice.get("type") != "any":
        return None
    called = _called(data.get("messages"))
    return next((f for f in functions if f.name not in called), functions[0])


def chosen_gemini_function(data: dict[str, Any]) -> Function | None:
    """Gemini: ``toolConfig.functionCallingConfig.mode`` ``ANY`` (maybe naming functions)."""
    functions = [
        Function(str(f.get("name", "tool")), f.get("parameters") or {})
        for t in data.get("tools") or []
        if isinstance(t, dict)
        for f in t.get("functionDeclarations") or t.get("function_declarations") or []
        if isinstance(f, dict)
    ]
    config = (data.get("toolConfig") or data.get("tool_config") or {}).get(
        "functionCallingConfig"
    ) or {}
    if not functions or str(config.get("mode", "")).upper() != "ANY":
        return None
    allowed = config.get("allowedFunctionNames") or []
    return _pick(functions, allowed[0] if allowed else None)


def openai_tool_call(
    model: str, prompt: int, function: Function, override: str | None
) -> dict[str, Any]:
    """A ``chat.completion`` whose message calls ``function``."""
    call = {
        "id": "call_fake",
        "type": "function",
        "function": {"name": function.name, "arguments": function.arguments(prompt, override)},
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


def openai_tool_stream(
    model: str, prompt: int, function: Function, override: str | None, include_usage: bool
) -> list[Any]:
    """The same call streamed: the name first, then the arguments in two pieces."""
    arguments = function.arguments(prompt, override)
    half = len(arguments) // 2
    base = {"id": "chatcmpl-fake-tool", "object": "chat.completion.chunk", "created": CREATED}
    base["model"] = model
    head = {
        "index": 0,
        "id": "call_fake",
        "type": "function",
        "function": {"name": function.name, "arguments": ""},
    }
    events: list[Any] = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [head]}}]}
    ]
    for piece in (arguments[:half], arguments[half:]):
        delta = {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
        events.append({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    if include_usage:
        events.append({**base, "choices": [], "usage": _openai_usage(prompt, 0)})
    events.append("[DONE]")
    return events
