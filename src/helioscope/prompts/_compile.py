"""Compiling a stored prompt body (an OpenAI chat request) with inputs, and merging it with a call.

A stored body is ``{model, messages, tools?, response_format?, …}`` whose text may hold
``{{hc:name:type}}`` variables and ``{{hcp:…}}`` partials. Compiling substitutes the inputs into
every message's text (string content and text parts), and into ``response_format`` and ``tools``
as JSON. Merging puts a call's own body on top (behaviour reference §6.2, ``mergePromptBody``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from helioscope.prompts._variables import (
    extract_variables,
    substitute_json,
    substitute_text,
    validate_inputs,
)

# Fields of a call that select and fill a stored prompt; removed before the call goes upstream.
PROMPT_FIELDS = ("prompt_id", "version_id", "environment", "inputs")


def _message(message: Any, inputs: Mapping[str, Any], partials: Mapping[str, str] | None) -> Any:
    if not isinstance(message, dict):
        return message
    content = message.get("content")
    if isinstance(content, str):
        return {**message, "content": substitute_text(content, inputs, partials)}
    if isinstance(content, list):
        parts = [
            {**part, "text": substitute_text(part["text"], inputs, partials)}
            if isinstance(part, dict) and isinstance(part.get("text"), str)
            else part
            for part in content
        ]
        return {**message, "content": parts}
    return message


def compile_messages(
    messages: list[Any], inputs: Mapping[str, Any], partials: Mapping[str, str] | None = None
) -> list[Any]:
    """Messages with the inputs substituted into their text; missing variables stay in place."""
    return [_message(m, inputs, partials) for m in messages]


def compile_prompt_body(
    body: Mapping[str, Any],
    inputs: Mapping[str, Any],
    partials: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A stored prompt body compiled with ``inputs`` (a new dict; ``body`` is not changed).

    Every provided input is type-checked against the variables of the whole body first, so a
    wrong type is a 400 naming the variable wherever it is used. ``partials`` maps a partial's
    placeholder text to the message text it stands for.
    """
    validate_inputs(extract_variables(dict(body)), inputs)
    out = dict(body)
    messages = body.get("messages")
    if isinstance(messages, list):
        out["messages"] = compile_messages(messages, inputs, partials)
    if body.get("response_format") is not None:
        out["response_format"] = substitute_json(body["response_format"], inputs, "response_format")
    if body.get("tools") is not None:
        out["tools"] = substitute_json(body["tools"], inputs, "tools")
    return out


def merge_prompt_body(
    stored: Mapping[str, Any],
    request: Mapping[str, Any],
    inputs: Mapping[str, Any],
    partials: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The body to send upstream for a call that names a stored prompt.

    Stored messages come first, then the call's; ``response_format`` is the call's if present,
    else the stored one; ``tools`` are the stored ones followed by the call's; every other
    parameter of the call overrides the stored one; the model comes from the prompt when the
    call has none; the prompt-selecting fields are removed.
    """
    call = {k: v for k, v in request.items() if k not in PROMPT_FIELDS}
    base = {k: v for k, v in stored.items() if k not in PROMPT_FIELDS}
    call_messages = call.pop("messages", None)
    call_tools = call.pop("tools", None)
    call_format = call.pop("response_format", None)
    merged: dict[str, Any] = {**base, **{k: v for k, v in call.items() if v is not None}}
    if not merged.get("model") and base.get("model"):
        merged["model"] = base["model"]
    merged["messages"] = list(base.get("messages") or []) + list(call_messages or [])
    tools = list(base.get("tools") or []) + list(call_tools or [])
    merged.pop("tools", None)
    if tools:
        merged["tools"] = tools
    response_format = call_format if call_format is not None else base.get("response_format")
    merged.pop("response_format", None)
    if response_format is not None:
        merged["response_format"] = response_format
    return compile_prompt_body(merged, inputs, partials)
