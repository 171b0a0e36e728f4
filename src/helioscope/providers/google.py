"""Google Gemini (generateContent) responses: usage from ``usageMetadata``."""

from __future__ import annotations

from typing import Any

from helioscope.providers.sse import SseEvent, json_events
from helioscope.providers.usage import ParsedResponse, Usage, as_int


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
        from helioscope.providers import openai

        return openai.parse_body(body)
    model = body.get("modelVersion")
    return ParsedResponse(
        model=model if isinstance(model, str) else None,
        usage=read_usage(body.get("usageMetadata")),
        body=body,
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
