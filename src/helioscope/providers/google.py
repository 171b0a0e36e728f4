"""Google Gemini (generateContent) responses: usage from ``usageMetadata``."""

from __future__ import annotations

from typing import Any

import msgspec

from helioscope.providers import openai
from helioscope.providers.sse import SseEvent, json_events
from helioscope.providers.usage import Count, ParsedResponse, Usage, as_int, parse_json


def read_usage(meta: Any) -> Usage:
    """Usage from a Gemini ``usageMetadata`` object."""
    if not isinstance(meta, dict):
        return Usage()
    prompt = as_int(meta.get("promptTokenCount"))
    completion = as_int(meta.get("candidatesTokenCount"))
    total = as_int(meta.get("totalTokenCount"))
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total if total is not None else (prompt or 0) + (completion or 0),
        prompt_cache_read_tokens=as_int(meta.get("cachedContentTokenCount")),
        reasoning_tokens=as_int(meta.get("thoughtsTokenCount")),
    )


def parse_body(body: Any) -> ParsedResponse:
    """Model and usage of a generateContent response."""
    if not isinstance(body, dict):
        return ParsedResponse(model=None, usage=Usage(), body=body)
    if "usageMetadata" not in body and "usage" in body:  # an OpenAI-compatible Gemini endpoint
        return openai.parse_body(body)
    model = body.get("modelVersion")
    return ParsedResponse(
        model=model if isinstance(model, str) else None,
        usage=read_usage(body.get("usageMetadata")),
        body=body,
    )


class _RawUsage(msgspec.Struct, gc=False):
    promptTokenCount: Count = None
    candidatesTokenCount: Count = None
    totalTokenCount: Count = None
    cachedContentTokenCount: Count = None
    thoughtsTokenCount: Count = None


class _Body(msgspec.Struct, gc=False):
    modelVersion: Any = None
    # UNSET: the key was not given (parse_body tells an OpenAI-compatible body by the keys).
    usageMetadata: _RawUsage | None | msgspec.UnsetType = msgspec.UNSET
    usage: openai.RawUsage | None | msgspec.UnsetType = msgspec.UNSET
    model: Any = None  # an OpenAI-compatible body's


# Only the model and usage are built, the candidates skipped; a body this shape does not admit
# (not an object, a count that is a string…) fails validation and is read whole instead.
_decode = msgspec.json.Decoder(_Body).decode


def parse_raw(raw: bytes) -> ParsedResponse:
    """Model and usage of a non-streamed response's raw bytes: ``parse_body``'s, body left None.

    A byte that is not UTF-8, or a number out of range, in a value skipped here does not cost
    the model and usage (orjson refused such a body whole).
    """
    try:
        body = _decode(raw)
    except (msgspec.DecodeError, RecursionError):  # ValidationError is a DecodeError
        return parse_json(raw, parse_body)
    meta, usage = body.usageMetadata, body.usage
    if meta is msgspec.UNSET and usage is not msgspec.UNSET:  # OpenAI-compatible, as parse_body
        model = body.model
        return ParsedResponse(
            model if isinstance(model, str) else None, openai.read_raw_usage(usage), None
        )
    model = body.modelVersion
    if not isinstance(meta, _RawUsage):  # absent or null
        return ParsedResponse(model if isinstance(model, str) else None, Usage(), None)
    # read_usage's counts, from the same values (ints or None: as_int would leave them as they are)
    prompt, completion, total = (
        meta.promptTokenCount,
        meta.candidatesTokenCount,
        meta.totalTokenCount,
    )
    return ParsedResponse(
        model if isinstance(model, str) else None,
        Usage(
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=total if total is not None else (prompt or 0) + (completion or 0),
            prompt_cache_read_tokens=meta.cachedContentTokenCount,
            reasoning_tokens=meta.thoughtsTokenCount,
        ),
        None,
    )


def parse_stream(events: list[SseEvent]) -> ParsedResponse:
    """streamGenerateContent: the text joined, function calls kept; the last chunk has totals."""
    chunks = json_events(events)
    if not chunks:
        return ParsedResponse(model=None, usage=Usage(), body={})
    parts = [
        part
        for chunk in chunks
        for candidate in chunk.get("candidates") or []
        for part in (candidate.get("content") or {}).get("parts") or []
        if isinstance(part, dict)
    ]
    text = "".join(str(p.get("text", "")) for p in parts if "text" in p)
    merged = ([{"text": text}] if text else []) + [p for p in parts if "text" not in p]
    last = chunks[-1]
    body = {**last, "candidates": [{"content": {"role": "model", "parts": merged}}]}
    return parse_body(body)
