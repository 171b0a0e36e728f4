"""Helicone's ``llmSchema``: a logged call's request and response, normalised for rendering.

Helicone's UI draws every call from one shape whatever the provider: ``LLMRequestBody`` (the
model, the sampling settings, ``messages`` as typed ``Message``s, the tools) and
``LLMResponseBody`` (the answer's ``messages``, or an ``error``). This builds that shape from
the stored bodies of OpenAI-style calls (chat, legacy completions, embeddings) and Anthropic
Messages calls, streamed or not; a body of any other shape gets no ``llmSchema`` (null, as
Helicone leaves it when it cannot map a body).
"""

from __future__ import annotations

from typing import Any

import orjson

Json = dict[str, Any]

# LLMRequestBody's numeric and boolean settings, copied when the body has them with that type.
_NUMBERS = ("temperature", "top_p", "seed", "presence_penalty", "frequency_penalty", "n")
_EFFORTS = ("low", "medium", "high")


def llm_schema(provider: str, request: Any, response: Any) -> Json | None:
    """``{request, response}`` in Helicone's ``LlmSchema``, or None for an unknown shape."""
    if not isinstance(request, dict):
        return None
    anthropic = (
        provider == "ANTHROPIC"
        or "messages" in request
        and (
            "system" in request or isinstance(response, dict) and response.get("type") == "message"
        )
    )
    mapped = _anthropic_request(request) if anthropic else _openai_request(request)
    if mapped is None:
        return None
    mapped["provider"] = provider
    if isinstance(request.get("model"), str):
        mapped["model"] = request["model"]
    return {"request": mapped, "response": _response(response, anthropic)}


# Requests ---------------------------------------------------------------------------------


def _settings(body: Json) -> Json:
    out: Json = {}
    for name in _NUMBERS:
        value = body.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = value
    for name in ("stream", "parallel_tool_calls"):
        if isinstance(body.get(name), bool):
            out[name] = body[name]
    limit = body.get("max_tokens", body.get("max_completion_tokens"))
    if isinstance(limit, int) and not isinstance(limit, bool):
        out["max_tokens"] = limit
    stop = body.get("stop", body.get("stop_sequences"))
    if isinstance(stop, str) or _strings(stop):
        out["stop"] = stop
    if body.get("reasoning_effort") in _EFFORTS:
        out["reasoning_effort"] = body["reasoning_effort"]
    return out


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _openai_request(body: Json) -> Json | None:
    out = _settings(body)
    if isinstance(body.get("messages"), list):
        out["llm_type"] = "chat"
        out["messages"] = [m for m in map(_openai_message, body["messages"]) if m is not None]
    elif isinstance(body.get("prompt"), str):
        out["llm_type"] = "completion"
        out["prompt"] = body["prompt"]
    elif isinstance(body.get("input"), str) or _strings(body.get("input")):
        out["input"] = body["input"]  # embeddings and moderations
    else:
        return None
    tools = [t for t in map(_openai_tool, body.get("tools") or []) if t is not None]
    if tools:
        out["tools"] = tools
    choice = body.get("tool_choice")
    if choice in ("auto", "none"):
        out["tool_choice"] = {"type": choice}
    elif choice == "required":
        out["tool_choice"] = {"type": "any"}
    elif isinstance(choice, dict) and isinstance((choice.get("function") or {}).get("name"), str):
        out["tool_choice"] = {"type": "tool", "name": choice["function"]["name"]}
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and isinstance(fmt.get("type"), str):
        out["response_format"] = {"type": fmt["type"], "json_schema": fmt.get("json_schema")}
    return out


def _openai_tool(tool: Any) -> Json | None:
    function = tool.get("function") if isinstance(tool, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        return None
    out: Json = {"name": function["name"], "description": str(function.get("description") or "")}
    if isinstance(function.get("parameters"), dict):
        out["parameters"] = function["parameters"]
    return out


def _arguments(raw: Any) -> Json:
    """Tool-call arguments as an object (OpenAI sends them as JSON text)."""
    if isinstance(raw, dict):
        return raw
    try:
        parsed = orjson.loads(raw) if isinstance(raw, str | bytes) else None
    except orjson.JSONDecodeError:
        parsed = None
    return parsed if isinstance(parsed, dict) else {"value": raw}


def _openai_message(message: Any) -> Json | None:
    if not isinstance(message, dict):
        return None
    role = str(message.get("role") or "user")
    content = message.get("content")
    out: Json = {"role": role}
    if isinstance(message.get("name"), str):
        out["name"] = message["name"]
    calls = [
        {"name": str(f.get("name") or ""), "arguments": _arguments(f.get("arguments"))}
        for c in message.get("tool_calls") or []
        if isinstance(c, dict) and isinstance(f := c.get("function"), dict)
    ]
    if calls:
        out.update(_type="functionCall", tool_calls=calls)
        if isinstance(content, str):
            out["content"] = content
        return out
    if role == "tool" or role == "function":
        out.update(_type="function", content=_text(content))
        if isinstance(message.get("tool_call_id"), str):
            out["tool_call_id"] = message["tool_call_id"]
        return out
    if isinstance(content, list):
        parts = [p for p in (_openai_part(role, part) for part in content) if p is not None]
        return {**out, "_type": "contentArray", "contentArray": parts}
    return {**out, "_type": "message", "content": _text(content)}


def _openai_part(role: str, part: Any) -> Json | None:
    if not isinstance(part, dict):
        return None
    kind = part.get("type")
    if kind == "text":
        return {"_type": "message", "role": role, "content": str(part.get("text") or "")}
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        return {"_type": "image", "role": role, "image_url": str(url or "")}
    if kind == "input_audio" and isinstance(part.get("input_audio"), dict):
        return {"_type": "audio", "role": role, "audio_data": str(part["input_audio"].get("data"))}
    return None


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # text parts, or Anthropic's text blocks
        return "".join(
            str(p.get("text") or "") for p in content if isinstance(p, dict) and "text" in p
        )
    return "" if content is None else orjson.dumps(content).decode()


def _anthropic_request(body: Json) -> Json | None:
    if not isinstance(body.get("messages"), list):
        return None
    out = _settings(body)
    out["llm_type"] = "chat"
    messages: list[Json] = []
    system = body.get("system")
    if system is not None:
        messages.append({"_type": "message", "role": "system", "content": _text(system)})
    for message in body["messages"]:
        if isinstance(message, dict):
            messages.extend(_anthropic_message(str(message.get("role") or "user"), message))
    out["messages"] = messages
    tools = [
        {"name": t["name"], "description": str(t.get("description") or "")}
        | ({"parameters": t["input_schema"]} if isinstance(t.get("input_schema"), dict) else {})
        for t in body.get("tools") or []
        if isinstance(t, dict) and isinstance(t.get("name"), str)
    ]
    if tools:
        out["tools"] = tools
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") in ("auto", "any", "tool", "none"):
        out["tool_choice"] = {"type": choice["type"]} | (
            {"name": choice["name"]} if isinstance(choice.get("name"), str) else {}
        )
    return out


def _anthropic_message(role: str, message: Json) -> list[Json]:
    """One Anthropic message as Helicone's messages (a tool result is a message of its own)."""
    content = message.get("content")
    if not isinstance(content, list):
        return [{"_type": "message", "role": role, "content": _text(content)}]
    parts: list[Json] = []
    calls: list[Json] = []
    results: list[Json] = []
    for block in content:
        if isinstance(block, dict):
            _anthropic_block(role, block, parts, calls, results)
    text = "".join(str(p["content"]) for p in parts if p["_type"] == "message")
    if calls:
        head = [{"_type": "functionCall", "role": role, "content": text, "tool_calls": calls}]
    elif any(p["_type"] != "message" for p in parts):
        head = [{"_type": "contentArray", "role": role, "contentArray": parts}]
    else:
        head = [{"_type": "message", "role": role, "content": text}] if parts else []
    return head + results


def _anthropic_block(
    role: str, block: Json, parts: list[Json], calls: list[Json], results: list[Json]
) -> None:
    kind = block.get("type")
    if kind == "text":
        parts.append({"_type": "message", "role": role, "content": str(block.get("text"))})
    elif kind == "image" and isinstance(source := block.get("source"), dict):
        url = source.get("url") or f"data:{source.get('media_type')};base64,{source.get('data')}"
        parts.append({"_type": "image", "role": role, "image_url": str(url)})
    elif kind == "tool_use":
        arguments = block.get("input") if isinstance(block.get("input"), dict) else {}
        calls.append({"name": str(block.get("name") or ""), "arguments": arguments})
    elif kind == "tool_result":
        result: Json = {"_type": "function", "role": "tool", "content": _text(block.get("content"))}
        if isinstance(block.get("tool_use_id"), str):
            result["tool_call_id"] = block["tool_use_id"]
        results.append(result)


# Responses --------------------------------------------------------------------------------


def _response(body: Any, anthropic: bool) -> Json | None:
    if isinstance(body, str):
        body = _assembled_stream(body, anthropic)
    if not isinstance(body, dict):
        return None
    out: Json = {}
    if isinstance(body.get("model"), str):
        out["model"] = body["model"]
    if "error" in body and body["error"] is not None:
        return out | {"error": {"heliconeMessage": body["error"]}}
    if anthropic or body.get("type") == "message":
        out["messages"] = _anthropic_message("assistant", body)
    elif isinstance(body.get("choices"), list):
        out["messages"] = [
            m
            for choice in body["choices"]
            if isinstance(choice, dict)
            for m in [_choice_message(choice)]
            if m is not None
        ]
    return out


def _choice_message(choice: Json) -> Json | None:
    if isinstance(choice.get("message"), dict):
        return _openai_message({"role": "assistant", **choice["message"]})
    if isinstance(choice.get("text"), str):  # a legacy completion
        return {"_type": "message", "role": "assistant", "content": choice["text"]}
    return None


def _events(text: str) -> list[Json]:
    """The JSON events of a server-sent-events body (``[DONE]`` and comments skipped)."""
    events = []
    for line in text.splitlines():
        if line.startswith("data:"):
            try:
                event = orjson.loads(line[5:].strip())
            except orjson.JSONDecodeError:
                continue
            if isinstance(event, dict):
                events.append(event)
    return events


def _deltas(event: Json, anthropic: bool) -> list[Any]:
    if anthropic:
        return [event.get("delta")]
    return [c.get("delta") for c in event.get("choices") or [] if isinstance(c, dict)]


def _assembled_stream(text: str, anthropic: bool) -> Json | None:
    """A streamed answer (server-sent events) put back together: its model and text."""
    model: Any = None
    pieces: list[str] = []
    key = "text" if anthropic else "content"
    for event in _events(text):
        start = event.get("message") if anthropic else event
        if isinstance(start, dict) and isinstance(start.get("model"), str):
            model = start["model"]
        pieces += [
            d[key]
            for d in _deltas(event, anthropic)
            if isinstance(d, dict) and isinstance(d.get(key), str)
        ]
    if model is None and not pieces:
        return None
    text = "".join(pieces)
    if anthropic:
        return {"type": "message", "model": model, "content": [{"type": "text", "text": text}]}
    return {"model": model, "choices": [{"message": {"role": "assistant", "content": text}}]}
