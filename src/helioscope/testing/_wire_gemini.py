"""Google Gemini's ``generateContent`` wire format: bodies, stream chunks, errors, function calls.

``streamGenerateContent?alt=sse`` sends each chunk as an SSE ``data:`` line holding a partial
``GenerateContentResponse``; the last one carries ``finishReason`` and the usage totals.
"""

from __future__ import annotations

from typing import Any

import orjson

from helioscope.testing._tools import Function
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


def _response(model: str, parts: list[Any], finish: str | None, usage: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    body: dict[str, Any] = {
        "candidates": [candidate],
        "modelVersion": model,
        "responseId": "fake-gemini-response",
    }
    if usage is not None:
        body["usageMetadata"] = usage
    return body


def gemini_body(model: str, prompt: int, cache_read: int) -> dict[str, Any]:
    """A ``generateContent`` response."""
    usage = _usage(prompt, cache_read, COMPLETION_TOKENS)
    return _response(model, [{"text": REPLY}], "STOP", usage)


def gemini_stream(model: str, prompt: int, cache_read: int) -> list[Any]:
    """``streamGenerateContent`` chunks: one per piece of the reply, the last with usage."""
    chunks: list[Any] = []
    for index, piece in enumerate(REPLY_PIECES):
        last = index == len(REPLY_PIECES) - 1
        usage = _usage(prompt, cache_read, COMPLETION_TOKENS) if last else None
        chunks.append(_response(model, [{"text": piece}], "STOP" if last else None, usage))
    return chunks


def gemini_function_call(
    model: str, prompt: int, function: Function, override: str | None
) -> dict[str, Any]:
    """A response whose only part calls ``function``."""
    call = {"name": function.name, "args": orjson.loads(function.arguments(prompt, override))}
    return _response(model, [{"functionCall": call}], "STOP", _usage(prompt, 0, 7))
