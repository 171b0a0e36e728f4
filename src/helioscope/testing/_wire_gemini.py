"""Google Gemini's ``generateContent`` wire format: bodies, stream chunks, errors, function calls.

``streamGenerateContent?alt=sse`` sends each chunk as an SSE ``data:`` line holding a partial
``GenerateContentResponse``; the last one carries ``finishReason`` and the usage totals. With
``candidateCount`` > 1 each chunk holds a piece of every candidate, told apart by ``index``;
with ``responseMimeType: application/json`` the text is JSON (following ``responseJsonSchema``).
"""

from __future__ import annotations

from typing import Any

import orjson

from helioscope.testing._tools import Function, chosen_gemini_function
from helioscope.testing._wire import COMPLETION_TOKENS, REPLY, REPLY_PIECES

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def gemini_error(status: int, message: str | None = None) -> dict[str, Any]:
    """Google's error body."""
    return {
        "error": {
            "code": status,
            "message": message or f"fake error {status}",
            "status": _STATUS_NAMES.get(status, "UNKNOWN"),
        }
    }


def _usage(prompt: int, cache_read: int, output: int) -> dict[str, Any]:
    usage = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": output,
        "totalTokenCount": prompt + output,
    }
    if cache_read:
        usage["cachedContentTokenCount"] = cache_read
    return usage


def _candidate(index: int, parts: list[Any], finish: str | None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": index}
    if finish is not None:
        candidate["finishReason"] = finish
    return candidate


def _response(model: str, candidates: list[Any], usage: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "candidates": candidates,
        "modelVersion": model,
        "responseId": "fake-gemini-response",
    }
    if usage is not None:
        body["usageMetadata"] = usage
    return body


def _json_text(config: dict[str, Any], prompt: int, override: str | None) -> str:
    """A JSON answer: one that follows the response schema when there is one."""
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    if isinstance(schema, dict):
        return Function("response", schema).arguments(prompt, override)
    return override or orjson.dumps({"reply": REPLY}).decode()


def _pieces(config: dict[str, Any], prompt: int, override: str | None, index: int) -> list[str]:
    """How candidate ``index``'s text streams (each further candidate a different reply)."""
    if config.get("responseMimeType") == "application/json":
        text = _json_text(config, prompt + index, override)
        return [text[: len(text) // 2], text[len(text) // 2 :]]
    if index == 0:
        return REPLY_PIECES
    return [*REPLY_PIECES[:-1], f" provider, take {index + 1}."]


def gemini_answer(
    data: dict[str, Any], model: str, prompt: int, cache_read: int, override: str | None
) -> tuple[dict[str, Any], list[Any]]:
    """A ``generateContent`` response and the same as ``streamGenerateContent`` chunks.

    ``generationConfig.candidateCount`` candidates, each with its ``index``; the text is JSON
    when ``responseMimeType`` asks for it; a forced function is called in each candidate. The
    usage counts every candidate's tokens; the last chunk carries it.
    """
    config = data.get("generationConfig") or data.get("generation_config") or {}
    count = int(config.get("candidateCount") or 1)
    function = chosen_gemini_function(data)
    if function is not None:
        call = {"name": function.name, "args": orjson.loads(function.arguments(prompt, override))}
        usage = _usage(prompt, 0, 7 * count)
        candidates = [_candidate(i, [{"functionCall": call}], "STOP") for i in range(count)]
        return _response(model, candidates, usage), [_response(model, candidates, usage)]
    pieces = [_pieces(config, prompt, override, i) for i in range(count)]
    usage = _usage(prompt, cache_read, COMPLETION_TOKENS * count)
    whole = [_candidate(i, [{"text": "".join(p)}], "STOP") for i, p in enumerate(pieces)]
    chunks: list[Any] = []
    for number in range(max(len(p) for p in pieces)):
        last = number == max(len(p) for p in pieces) - 1
        candidates = [
            _candidate(i, [{"text": p[number]}], "STOP" if number == len(p) - 1 else None)
            for i, p in enumerate(pieces)
            if number < len(p)
        ]
        chunks.append(_response(model, candidates, usage if last else None))
    return _response(model, whole, usage), chunks
