"""OpenAI Responses API bodies to chat format and back, so stored chat prompts apply to them.

Helicone merges a stored prompt into a Responses call by converting the call to chat format,
merging, and converting back (behaviour reference §6.2). Only what a merge touches is
converted: ``instructions`` and ``input`` (messages), function ``tools``, and ``text.format``
(``response_format``). Items that are not messages (function calls and their outputs) pass
through in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_CHAT_ONLY = ("messages", "tools", "response_format")
_RESPONSES_ONLY = ("input", "instructions", "tools", "text")


def is_responses_body(body: Mapping[str, Any]) -> bool:
    """True for a Responses API body (``input`` and no ``messages``)."""
    return "input" in body and "messages" not in body


def _chat_part(part: Any) -> Any:
    if isinstance(part, dict) and part.get("type") in ("input_text", "output_text"):
        return {"type": "text", "text": part.get("text", "")}
    return part


def _chat_tool(tool: Any) -> Any:
    if isinstance(tool, dict) and tool.get("type") == "function" and "function" not in tool:
        function = {k: v for k, v in tool.items() if k != "type"}
        return {"type": "function", "function": function}
    return tool


def _chat_format(fmt: Any) -> Any:
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        return {"type": "json_schema", "json_schema": {k: v for k, v in fmt.items() if k != "type"}}
    return fmt


def responses_to_chat(body: Mapping[str, Any]) -> dict[str, Any]:
    """A Responses body as a chat body (instructions become the first system message)."""
    chat = {k: v for k, v in body.items() if k not in _RESPONSES_ONLY}
    messages: list[Any] = []
    if isinstance(body.get("instructions"), str):
        messages.append({"role": "system", "content": body["instructions"]})
    items = body.get("input")
    for item in [{"role": "user", "content": items}] if isinstance(items, str) else items or []:
        if isinstance(item, dict) and isinstance(item.get("content"), list):
            item = {**item, "content": [_chat_part(p) for p in item["content"]]}
        messages.append(item)
    chat["messages"] = messages
    if body.get("tools") is not None:
        chat["tools"] = [_chat_tool(t) for t in body["tools"]]
    text = body.get("text")
    if isinstance(text, dict) and text.get("format") is not None:
        chat["response_format"] = _chat_format(text["format"])
    return chat


def _responses_item(message: Any) -> Any:
    if not isinstance(message, dict) or not isinstance(message.get("content"), list):
        return message
    kind = "output_text" if message.get("role") == "assistant" else "input_text"
    parts = [
        {"type": kind, "text": p.get("text", "")}
        if isinstance(p, dict) and p.get("type") == "text"
        else p
        for p in message["content"]
    ]
    return {**message, "content": parts}


def _responses_tool(tool: Any) -> Any:
    if isinstance(tool, dict) and tool.get("type") == "function" and "function" in tool:
        return {"type": "function", **tool["function"]}
    return tool


def _responses_format(fmt: Any) -> Any:
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema" and "json_schema" in fmt:
        return {"type": "json_schema", **fmt["json_schema"]}
    return fmt


def chat_to_responses(chat: Mapping[str, Any], original: Mapping[str, Any]) -> dict[str, Any]:
    """A merged chat body back in Responses form (``original`` gives the ``text`` options)."""
    body = {k: v for k, v in chat.items() if k not in _CHAT_ONLY}
    body["input"] = [_responses_item(m) for m in chat.get("messages") or []]
    if chat.get("tools"):
        body["tools"] = [_responses_tool(t) for t in chat["tools"]]
    if chat.get("response_format") is not None:
        text = original.get("text")
        body["text"] = {
            **(text if isinstance(text, dict) else {}),
            "format": _responses_format(chat["response_format"]),
        }
    elif original.get("text") is not None:
        body["text"] = original["text"]
    return body
