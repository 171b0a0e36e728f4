"""Anthropic Messages wire format, streamed and not."""

from __future__ import annotations

from typing import Any

import msgspec
import orjson

from helioscope.providers.sse import SseEvent, json_events
from helioscope.providers.usage import Count, ParsedResponse, Usage, as_int, raw_parser


def read_usage(usage: Any) -> Usage:
    """Usage from an Anthropic ``usage`` object.

    Anthropic's ``input_tokens`` excludes cache reads and writes; we count them in
    ``prompt_tokens`` so every provider means the same thing by it.
    """
    if not isinstance(usage, dict):
        return Usage()
    uncached = as_int(usage.get("input_tokens"))
    read = as_int(usage.get("cache_read_input_tokens"))
    write = as_int(usage.get("cache_creation_input_tokens"))
    output = as_int(usage.get("output_tokens"))
    prompt = None if uncached is None else uncached + (read or 0) + (write or 0)
    total = None if prompt is None and output is None else (prompt or 0) + (output or 0)
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=output,
        total_tokens=total,
        prompt_cache_read_tokens=read,
        prompt_cache_write_tokens=write,
    )


def parse_body(body: Any) -> ParsedResponse:
    """Model and usage of a non-streamed Messages response."""
    if not isinstance(body, dict):
        return ParsedResponse(model=None, usage=Usage(), body=body)
    model = body.get("model")
    return ParsedResponse(
        model=model if isinstance(model, str) else None,
        usage=read_usage(body.get("usage")),
        body=body,
    )


class _RawUsage(msgspec.Struct, gc=False):
    input_tokens: Count = None
    cache_read_input_tokens: Count = None
    cache_creation_input_tokens: Count = None
    output_tokens: Count = None


class _Body(msgspec.Struct, gc=False):
    model: Any = None
    usage: _RawUsage | None = None


def _read(body: _Body) -> tuple[Any, Usage]:
    usage = body.usage
    if usage is None:
        return body.model, Usage()
    # read_usage's sums, from the same values (ints or None: as_int would leave them as they are)
    uncached, output = usage.input_tokens, usage.output_tokens
    read, write = usage.cache_read_input_tokens, usage.cache_creation_input_tokens
    prompt = None if uncached is None else uncached + (read or 0) + (write or 0)
    total = None if prompt is None and output is None else (prompt or 0) + (output or 0)
    return body.model, Usage(prompt, output, total, read, write)


# Only the model and usage are built, the content skipped.
parse_raw = raw_parser(_Body, _read, parse_body)


def parse_stream(events: list[SseEvent]) -> ParsedResponse:
    """Rebuild the message from ``message_start`` … ``message_stop`` events."""
    message: dict[str, Any] = {}
    blocks: dict[int, dict[str, Any]] = {}
    partial_json: dict[int, str] = {}
    usage: dict[str, Any] = {}
    for event in json_events(events):
        kind = event.get("type")
        if kind == "message_start" and isinstance(event.get("message"), dict):
            message = dict(event["message"])
            usage.update(message.get("usage") or {})
        elif kind == "content_block_start":
            blocks[as_int(event.get("index")) or 0] = dict(event.get("content_block") or {})
        elif kind == "content_block_delta":
            index = as_int(event.get("index")) or 0
            _apply_delta(blocks.setdefault(index, {}), event.get("delta"), partial_json, index)
        elif kind == "message_delta":
            message.update(event.get("delta") or {})
            usage.update({k: v for k, v in (event.get("usage") or {}).items() if v is not None})
    for index, text in partial_json.items():
        try:
            blocks[index]["input"] = orjson.loads(text)
        except orjson.JSONDecodeError:
            blocks[index]["input"] = text
    message["content"] = [blocks[i] for i in sorted(blocks)]
    message["usage"] = usage
    return parse_body(message)


def _apply_delta(
    block: dict[str, Any], delta: Any, partial_json: dict[int, str], index: int
) -> None:
    if not isinstance(delta, dict):
        return
    kind = delta.get("type")
    if kind == "text_delta":
        block["text"] = block.get("text", "") + (delta.get("text") or "")
    elif kind == "input_json_delta":
        partial_json[index] = partial_json.get(index, "") + (delta.get("partial_json") or "")
    elif kind == "thinking_delta":
        block["thinking"] = block.get("thinking", "") + (delta.get("thinking") or "")
    elif kind == "signature_delta":
        block["signature"] = delta.get("signature")
