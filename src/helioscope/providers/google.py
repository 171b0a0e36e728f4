"""Google Gemini (generateContent) responses: usage from ``usageMetadata``."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from helioscope.providers import openai
from helioscope.providers.sse import SseEvent, json_events
from helioscope.providers.usage import Count, ParsedResponse, Usage, as_int, raw_parser

# Gemini names the model in the URL, not the body: ``…/models/gemini-2.0-flash:generateContent``
# (Vertex AI's ``…/publishers/google/models/<model>:streamGenerateContent`` too).
_URL_MODEL = re.compile(r"/models/([^/:?]+):(?:stream)?[Gg]enerateContent")


def model_in_url(url: str) -> str | None:
    """The model a ``generateContent`` URL names, or None for any other URL."""
    found = _URL_MODEL.search(url)
    return found.group(1) if found else None


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


def _read(body: _Body) -> tuple[Any, Usage]:
    meta, usage = body.usageMetadata, body.usage
    if meta is msgspec.UNSET and usage is not msgspec.UNSET:  # OpenAI-compatible, as parse_body
        return body.model, openai.read_raw_usage(usage)
    if not isinstance(meta, _RawUsage):  # absent or null
        return body.modelVersion, Usage()
    # read_usage's counts, from the same values (ints or None: as_int would leave them as they are)
    prompt, completion, total = (
        meta.promptTokenCount,
        meta.candidatesTokenCount,
        meta.totalTokenCount,
    )
    return body.modelVersion, Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total if total is not None else (prompt or 0) + (completion or 0),
        prompt_cache_read_tokens=meta.cachedContentTokenCount,
        reasoning_tokens=meta.thoughtsTokenCount,
    )


# Only the model and usage are built, the candidates skipped.
parse_raw = raw_parser(_Body, _read, parse_body)


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
