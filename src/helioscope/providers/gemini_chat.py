"""OpenAI chat completions to Google's Gemini API (``generateContent``) and back, streams included.

Requests: system and developer messages become ``systemInstruction``; user turns are ``user``
contents and assistant turns ``model`` contents; tool calls become ``functionCall`` parts and
tool results ``functionResponse`` parts (Gemini names the function, so the name is found from
the call the result answers); images become ``inlineData`` (data URLs) or ``fileData``.
Function parameters lose the JSON-schema keys Gemini rejects.

Responses: text parts become the message, ``functionCall`` parts its ``tool_calls``;
``finishReason`` becomes a finish reason; ``usageMetadata`` becomes usage, with cached and
thinking tokens. A stream (``alt=sse``) is mapped chunk by chunk (``GeminiChunks``).
"""

from __future__ import annotations

from typing import Any

import orjson

from helioscope.providers.chat_parts import (
    ChatChunks,
    MappingError,
    Turn,
    chat_usage,
    fold_turns,
    image_source,
    text_of,
    tool_calls,
)
from helioscope.providers.errors import from_gemini

FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
}
_UNSUPPORTED_SCHEMA_KEYS = frozenset({"additionalProperties", "$schema", "strict"})


def _schema(value: Any) -> Any:
    """A JSON schema without the keys Gemini's function declarations reject."""
    if isinstance(value, dict):
        return {k: _schema(v) for k, v in value.items() if k not in _UNSUPPORTED_SCHEMA_KEYS}
    if isinstance(value, list):
        return [_schema(v) for v in value]
    return value


def _user_parts(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}]
    if not isinstance(content, list):
        raise MappingError(f"{where}.content must be a string or an array of parts")
    parts: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            parts.append({"text": str(part.get("text", ""))})
        elif kind == "image_url":
            url = (part.get("image_url") or {}).get("url")
            media, data = image_source(url, where)
            if data is not None:
                parts.append({"inlineData": {"mimeType": media, "data": data}})
            else:
                parts.append({"fileData": {"mimeType": media, "fileUri": url}})
        else:
            raise MappingError(f"{where}.content: parts of type {kind!r} cannot go to Gemini")
    return parts


def _model_parts(message: dict[str, Any], names: dict[str, str], where: str) -> list[Any]:
    parts: list[dict[str, Any]] = []
    text = text_of(message.get("content"))
    if text:
        parts.append({"text": text})
    for call_id, name, arguments in tool_calls(message, where):
        names[str(call_id)] = str(name)
        parts.append({"functionCall": {"name": name, "args": arguments}})
    return parts


def _tool_result(message: dict[str, Any], names: dict[str, str], where: str) -> dict[str, Any]:
    call_id = str(message.get("tool_call_id"))
    if call_id not in names:
        raise MappingError(f"{where}.tool_call_id {call_id!r} answers no earlier tool call")
    text = text_of(message.get("content"))
    try:
        result = orjson.loads(text)
    except orjson.JSONDecodeError:
        result = text
    response = result if isinstance(result, dict) else {"content": result}
    return {"functionResponse": {"name": names[call_id], "response": response}}


def _contents(messages: list[Any]) -> tuple[list[str], list[dict[str, Any]]]:
    names: dict[str, str] = {}  # tool call id -> function name, for the results that follow

    def turn(message: dict[str, Any], where: str) -> Turn:
        role = message.get("role")
        if role == "user":
            return "user", _user_parts(message.get("content"), where)
        if role == "assistant":
            return "model", _model_parts(message, names, where)
        if role == "tool":
            return "user", [_tool_result(message, names, where)]
        raise MappingError(f"{where}.role {role!r} cannot go to Gemini")

    return fold_turns(messages, "parts", turn)


def _tool_config(choice: Any) -> dict[str, Any] | None:
    if choice is None:
        return None
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]}}
    mode = {"required": "ANY", "none": "NONE"}.get(str(choice), "AUTO")
    return {"functionCallingConfig": {"mode": mode}}


def _generation_config(chat: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for source, target in (
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("n", "candidateCount"),
        ("seed", "seed"),
    ):
        if chat.get(source) is not None:
            config[target] = chat[source]
    limit = chat.get("max_completion_tokens") or chat.get("max_tokens")
    if limit:
        config["maxOutputTokens"] = limit
    stop = chat.get("stop")
    if stop:
        config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
    return config


def chat_to_gemini(chat: dict[str, Any]) -> dict[str, Any]:
    """A chat completion request as a ``generateContent`` request (the model is in the URL)."""
    system, contents = _contents(chat["messages"])
    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = {"parts": [{"text": "\n\n".join(system)}]}
    config = _generation_config(chat)
    if config:
        body["generationConfig"] = config
    functions = [t.get("function") for t in chat.get("tools") or [] if isinstance(t, dict)]
    declarations = [
        {k: _schema(v) for k, v in f.items() if k in ("name", "description", "parameters")}
        for f in functions
        if isinstance(f, dict)
    ]
    if declarations:
        body["tools"] = [{"functionDeclarations": declarations}]
        tool_config = _tool_config(chat.get("tool_choice"))
        if tool_config is not None:
            body["toolConfig"] = tool_config
    return body


def _usage(meta: Any) -> dict[str, Any]:
    meta = meta if isinstance(meta, dict) else {}
    thoughts = int(meta.get("thoughtsTokenCount") or 0)
    return chat_usage(
        int(meta.get("promptTokenCount") or 0),
        int(meta.get("candidatesTokenCount") or 0) + thoughts,
        cached=int(meta.get("cachedContentTokenCount") or 0),
        reasoning=thoughts,
    )


def _parts(body: dict[str, Any]) -> tuple[list[dict[str, Any]], Any]:
    candidates = body.get("candidates") or [{}]
    candidate = candidates[0] if isinstance(candidates[0], dict) else {}
    parts = (candidate.get("content") or {}).get("parts") or []
    return [p for p in parts if isinstance(p, dict)], candidate.get("finishReason")


def _calls(parts: list[dict[str, Any]], first_index: int) -> list[dict[str, Any]]:
    return [
        {
            "id": call.get("id") or f"call_{first_index + n}",
            "type": "function",
            "function": {
                "name": call.get("name"),
                "arguments": orjson.dumps(call.get("args", {})).decode(),
            },
        }
        for n, call in enumerate(p["functionCall"] for p in parts if "functionCall" in p)
    ]


def _text(parts: list[dict[str, Any]]) -> str:
    return "".join(str(p.get("text", "")) for p in parts if "text" in p and not p.get("thought"))


def gemini_to_chat(body: Any, created: int) -> dict[str, Any]:
    """A ``generateContent`` response as a chat completion."""
    if not isinstance(body, dict):
        raise MappingError("Gemini answered a body that is not a response")
    parts, finish = _parts(body)
    message: dict[str, Any] = {
        "role": "assistant",
        "content": _text(parts) or None,
        "refusal": None,
    }
    calls = _calls(parts, 0)
    if calls:
        message["tool_calls"] = calls
    reason = "tool_calls" if calls else FINISH_REASONS.get(str(finish), "stop")
    return {
        "id": body.get("responseId") or "gemini",
        "object": "chat.completion",
        "created": created,
        "model": body.get("modelVersion"),
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": reason}],
        "usage": _usage(body.get("usageMetadata")),
    }


class GeminiChunks(ChatChunks):
    """``streamGenerateContent`` chunks to ``chat.completion.chunk`` objects."""

    def __init__(self, include_usage: bool, created: int) -> None:
        super().__init__(include_usage, created)
        self._started = False
        self._calls = 0
        self._usage: Any = None

    def feed(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """The chunks one Gemini chunk stands for."""
        if "error" in event:
            return [from_gemini(event, int((event.get("error") or {}).get("code") or 500))]
        out: list[dict[str, Any]] = []
        if not self._started:
            self._started = True
            self.id = str(event.get("responseId") or "gemini")
            self.model = str(event.get("modelVersion") or "")
            out.append(self.chunk({"role": "assistant", "content": ""}))
        parts, finish = _parts(event)
        text = _text(parts)
        if text:
            out.append(self.chunk({"content": text}))
        calls = _calls(parts, self._calls)
        if calls:
            indexed = [{"index": self._calls + n, **call} for n, call in enumerate(calls)]
            self._calls += len(calls)
            out.append(self.chunk({"tool_calls": indexed}))
        if event.get("usageMetadata") is not None:
            self._usage = event["usageMetadata"]
        if finish is not None:
            reason = "tool_calls" if self._calls else FINISH_REASONS.get(str(finish), "stop")
            out.append(self.chunk({}, reason))
        return out

    def close(self) -> list[dict[str, Any]]:
        """The usage chunk, once the stream has ended (Gemini sends no closing event)."""
        if self.include_usage and self._usage is not None:
            return [self.usage_chunk(_usage(self._usage))]
        return []
