"""OpenAI chat completions to Google's Gemini API (``generateContent``) and back, streams included.

Requests: system and developer messages become ``systemInstruction``; user turns are ``user``
contents and assistant turns ``model`` contents; tool calls become ``functionCall`` parts and
tool results ``functionResponse`` parts (Gemini names the function, so the name is found from
the call the result answers); images become ``inlineData`` (data URLs) or ``fileData``.
Function parameters lose the JSON-schema keys Gemini rejects; ``n`` becomes ``candidateCount``
and ``response_format`` ``responseMimeType`` (and ``responseJsonSchema``).

Responses: each candidate becomes a choice (in index order): its text parts the message, its
``functionCall`` parts the ``tool_calls``;
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
    function_tools,
    image_source,
    text_of,
    tool_calls,
)
from helioscope.providers.errors import from_gemini
from helioscope.providers.response_format import gemini_fields

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
    config.update(gemini_fields(chat))
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
    declarations = [
        {k: _schema(v) for k, v in f.items() if k in ("name", "description", "parameters")}
        for f in function_tools(chat, "Gemini")
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


def _candidates(body: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """``(index, candidate)`` of each candidate, in index order (``n`` > 1 asks for several)."""
    found = [c for c in body.get("candidates") or [] if isinstance(c, dict)]
    # Google may leave out an index of 0 (proto3's JSON omits defaults): then it is the position.
    indexed = [
        (c["index"] if isinstance(c.get("index"), int) else position, c)
        for position, c in enumerate(found)
    ]
    return sorted(indexed, key=lambda pair: pair[0]) or [(0, {})]


def _parts(candidate: dict[str, Any]) -> tuple[list[dict[str, Any]], Any]:
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


def _choice(index: int, candidate: dict[str, Any]) -> dict[str, Any]:
    parts, finish = _parts(candidate)
    message: dict[str, Any] = {
        "role": "assistant",
        "content": _text(parts) or None,
        "refusal": None,
    }
    calls = _calls(parts, 0)
    if calls:
        message["tool_calls"] = calls
    reason = "tool_calls" if calls else FINISH_REASONS.get(str(finish), "stop")
    return {"index": index, "message": message, "logprobs": None, "finish_reason": reason}


def gemini_to_chat(body: Any, created: int) -> dict[str, Any]:
    """A ``generateContent`` response as a chat completion: a choice per candidate."""
    if not isinstance(body, dict):
        raise MappingError("Gemini answered a body that is not a response")
    return {
        "id": body.get("responseId") or "gemini",
        "object": "chat.completion",
        "created": created,
        "model": body.get("modelVersion"),
        "choices": [_choice(index, c) for index, c in _candidates(body)],
        # The candidates' tokens together, as Gemini counts them (OpenAI's do too).
        "usage": _usage(body.get("usageMetadata")),
    }


class GeminiChunks(ChatChunks):
    """``streamGenerateContent`` chunks to ``chat.completion.chunk`` objects.

    Each Gemini chunk holds a piece of each candidate still going, under its ``index``: a piece
    becomes a chunk of that choice.
    """

    def __init__(self, include_usage: bool, created: int) -> None:
        super().__init__(include_usage, created)
        self._started = False
        self._calls: dict[int, int] = {}  # choice index -> tool calls it has streamed
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
        for index, candidate in _candidates(event):
            out += self._piece(index, candidate)
        if event.get("usageMetadata") is not None:
            self._usage = event["usageMetadata"]
        return out

    def _piece(self, index: int, candidate: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if index and index not in self._calls:  # a further choice opens with its role too
            out.append(self.chunk({"role": "assistant", "content": ""}, index=index))
        made = self._calls.setdefault(index, 0)
        parts, finish = _parts(candidate)
        text = _text(parts)
        if text:
            out.append(self.chunk({"content": text}, index=index))
        calls = _calls(parts, made)
        if calls:
            indexed = [{"index": made + n, **call} for n, call in enumerate(calls)]
            self._calls[index] = made + len(calls)
            out.append(self.chunk({"tool_calls": indexed}, index=index))
        if finish is not None:
            reason = "tool_calls" if self._calls[index] else FINISH_REASONS.get(str(finish), "stop")
            out.append(self.chunk({}, reason, index))
        return out

    def close(self) -> list[dict[str, Any]]:
        """The usage chunk, once the stream has ended (Gemini sends no closing event)."""
        if self.include_usage and self._usage is not None:
            return [self.usage_chunk(_usage(self._usage))]
        return []
