"""What the gateway saw of one call, and how it becomes a log row.

The gateway fills a ``CallCapture`` while it relays the call (timings, status, a copy of the
response chunks) and hands it over when the call ends. Everything costly — decompressing,
parsing the stream, pricing — happens here, after the client has its response.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zlib
from dataclasses import dataclass, field
from typing import Any, Protocol

import brotli
import msgspec
import orjson

from helioscope.ingest.headers import HeliconeHeaders
from helioscope.ingest.pricing import cost_nano_usd
from helioscope.providers import ParsedResponse, ProviderFormat, Usage, parse_sse
from helioscope.providers.google import model_in_url
from helioscope.store import LogRow

# Helicone's status codes for calls that did not finish normally.
STATUS_CLIENT_CANCELLED = -3
STATUS_TIMEOUT = -2
STATUS_THREAT = -4
_MILLISECOND = dt.timedelta(milliseconds=1)

_ZERO_USAGE = Usage(
    prompt_tokens=0,
    completion_tokens=0,
    total_tokens=0,
    prompt_cache_read_tokens=0,
    prompt_cache_write_tokens=0,
    reasoning_tokens=0,
    prompt_audio_tokens=0,
    completion_audio_tokens=0,
)


@dataclass(slots=True)
class CallCapture:
    """Everything logging needs from one proxied call."""

    request_id: str
    organization_id: str
    provider: ProviderFormat
    target_url: str
    path: str
    helicone: HeliconeHeaders
    request_body: bytes
    started_at: dt.datetime
    started: float  # perf_counter() when the request arrived
    api_key_id: int | None = None
    status: int = 0
    first_chunk: float | None = None
    ended: float | None = None
    is_stream: bool = False
    content_encoding: str | None = None
    chunks: list[bytes] = field(default_factory=list)
    completed: bool = True
    error: str | None = None
    request_json: Any = None  # set when the gateway already parsed the body; else parsed here
    # Gateway controls (gateway/controls): a cache hit names the request it replays.
    cache_enabled: bool = False
    cache_reference_id: str | None = None
    threat: bool | None = None
    request_referrer: str | None = None  # "ai-gateway" for AI Gateway calls, as in Helicone
    country_code: str | None = None  # the client's country, from a header set in front of us


class Captured(Protocol):
    """What a row is built from: a ``CallCapture``, or the log writer's journalled capture.

    The writer reads a capture's journal header straight into a typed record with these names
    (``_records.JournalCapture``) rather than copy it into a ``CallCapture`` (a Python
    ``__init__`` of 24 values: ~4,500 instructions a row), so the functions that build a row
    take either (and nothing that builds a row changes a capture).
    """

    request_id: str
    organization_id: str
    provider: ProviderFormat
    target_url: str
    path: str
    helicone: HeliconeHeaders
    request_body: bytes
    started_at: dt.datetime
    started: float
    api_key_id: int | None
    status: int
    first_chunk: float | None
    ended: float | None
    is_stream: bool
    content_encoding: str | None
    chunks: list[bytes]
    completed: bool
    error: str | None
    request_json: Any
    cache_enabled: bool
    cache_reference_id: str | None
    threat: bool | None
    request_referrer: str | None
    country_code: str | None


def _decode_body(data: bytes, encoding: str) -> bytes:
    """Undo the response's Content-Encoding; a cut-short stream yields what arrived."""
    encoding = encoding.lower().strip()
    try:
        if encoding in ("gzip", "x-gzip", "deflate"):
            wbits = zlib.MAX_WBITS | 32 if encoding != "deflate" else zlib.MAX_WBITS
            return zlib.decompressobj(wbits).decompress(data)
        if encoding == "br":
            result: bytes = brotli.Decompressor().process(data)
            return result
    except (zlib.error, brotli.error):
        return b""
    return data


def _parse_response(capture: Captured, raw: bytes) -> tuple[ParsedResponse, str | None]:
    """The parsed response and the text to store as its body."""
    text = raw.decode("utf-8", errors="replace")
    if capture.is_stream:
        parsed = capture.provider.parse_stream(parse_sse(text, complete=capture.completed))
        return parsed, orjson.dumps(parsed.body).decode()
    # The stored text is the raw text: only the model and usage are read, the choices skipped
    # rather than built (parse_raw: ~1.2 us against orjson.loads + parse_body's ~2.8 us on the
    # bench's 400-byte answer, ~2.0 against ~3.4 on a 4 KB one, timeit).
    return capture.provider.parse_raw(raw), text


def usage_columns(usage: Usage) -> dict[str, Any]:
    """The log row's token columns for a usage."""
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_cache_read_tokens": usage.prompt_cache_read_tokens,
        "prompt_cache_write_tokens": usage.prompt_cache_write_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "prompt_audio_tokens": usage.prompt_audio_tokens,
        "completion_audio_tokens": usage.completion_audio_tokens,
    }


class _ModelAndUser(msgspec.Struct):
    """The two keys of a request body that its row reads."""

    model: Any = None
    user: Any = None


# Only those two keys are built; the rest (the messages: most of a body) is skipped, not made
# into dicts and strings: ~2,600 instructions a 140-byte body against orjson.loads' ~6,600,
# and ~7.0 against ~11.6 us native on 20 KB (callgrind, timeit). It also reads the keys of a
# body with a byte that is not UTF-8 in a skipped value, which orjson refused whole.
_decode_model_and_user = msgspec.json.Decoder(_ModelAndUser).decode


def _model_and_user(capture: Captured) -> tuple[Any, Any]:
    """The request body's "model" and "user" (None where the body is no JSON object)."""
    request_json = capture.request_json
    if request_json is not None:  # the gateway parsed (or rewrote) the body
        if isinstance(request_json, dict):
            return request_json.get("model"), request_json.get("user")
        return None, None
    if not capture.request_body:
        return None, None
    try:
        asked = _decode_model_and_user(capture.request_body)
    except msgspec.DecodeError:  # not JSON, or not an object (ValidationError is one too)
        return None, None
    return asked.model, asked.user


def _ms(start: float, end: float | None) -> int | None:
    return None if end is None else max(0, round((end - start) * 1000))


def build_log_row(capture: Captured) -> LogRow:
    """Turn a finished capture into the row the writer stores."""
    raw = b"".join(capture.chunks)
    if capture.content_encoding:  # most answers come unencoded: no call for them
        raw = _decode_body(raw, capture.content_encoding)
    parsed, response_text = _parse_response(capture, raw)
    request_model, asked_user = _model_and_user(capture)
    request_model = request_model if isinstance(request_model, str) else None
    if request_model is None:  # a Gemini body names no model: its URL does
        request_model = model_in_url(capture.target_url)
    h = capture.helicone
    model = h.model_override or parsed.model or request_model or ""
    user = h.user_id
    if user is None and isinstance(asked_user, str):
        user = asked_user
    usage = parsed.usage
    if capture.cache_reference_id is not None:
        # A cache hit cost nothing and used no tokens; the request it replays counted them.
        usage = _ZERO_USAGE
    started, ended = capture.started, capture.ended
    latency = None if ended is None else max(0, round((ended - started) * 1000))  # _ms, inline
    # By place, in _ROW_FIELDS' order: a call with ~40 keywords cost ~0.9 us more a row.
    return LogRow(
        capture.request_id,
        capture.organization_id,
        capture.started_at,
        capture.status,
        capture.provider.name,
        model,
        # A millisecond times an int: exact, and ~1,600 instructions fewer than building
        # timedelta(0, 0, 0, latency) (its constructor sums every unit in Python numbers).
        capture.started_at + _MILLISECOND * latency if latency is not None else None,
        latency,
        _ms(started, capture.first_chunk) if capture.is_stream else None,
        request_model,
        parsed.model,  # response_model
        h.model_override,
        user,
        capture.target_url,
        capture.path,
        capture.is_stream,
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.total_tokens,
        usage.prompt_cache_read_tokens,
        usage.prompt_cache_write_tokens,
        usage.reasoning_tokens,
        usage.prompt_audio_tokens,
        usage.completion_audio_tokens,
        0 if capture.cache_reference_id else cost_nano_usd(capture.provider, model, usage),
        capture.cache_enabled,
        capture.cache_reference_id,
        capture.threat,
        capture.country_code,
        dict(h.properties),
        {},  # scores
        h.prompt_id,
        h.prompt_version,
        None if h.omit_request else capture.request_body.decode("utf-8", "replace"),
        None if h.omit_response else response_text,
        len(capture.request_body),
        len(raw),  # response_body_size
        capture.request_referrer,
        capture.api_key_id,
        capture.error,
        h.prompt_inputs,
    )


# The order build_log_row passes a row's fields in; a LogRow whose fields differ (added,
# dropped, moved) stops the import here rather than store values under the wrong names.
_ROW_FIELDS = (
    "request_id",
    "organization_id",
    "request_created_at",
    "status",
    "provider",
    "model",
    "response_created_at",
    "latency",
    "time_to_first_token",
    "request_model",
    "response_model",
    "model_override",
    "user_id",
    "target_url",
    "path",
    "is_stream",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_cache_read_tokens",
    "prompt_cache_write_tokens",
    "reasoning_tokens",
    "prompt_audio_tokens",
    "completion_audio_tokens",
    "cost",
    "cache_enabled",
    "cache_reference_id",
    "threat",
    "country_code",
    "properties",
    "scores",
    "prompt_id",
    "prompt_version",
    "request_body",
    "response_body",
    "request_body_size",
    "response_body_size",
    "request_referrer",
    "helicone_api_key_id",
    "error",
    "prompt_inputs",
)
if tuple(f.name for f in dataclasses.fields(LogRow)) != _ROW_FIELDS:
    raise ImportError("LogRow's fields changed: update build_log_row and _ROW_FIELDS together")


def call_cost_nano_usd(capture: Captured) -> int | None:
    """The cost the log writer gives this ended call (USD x 1e9), or None when unknown.

    For a gateway that must know it before the writer has stored the call (``u=cents`` rate
    limits): it is the row's own cost, built the writer's way, so that the two never differ.
    """
    return build_log_row(capture).cost


def minimal_log_row(capture: Captured, error: str) -> LogRow:
    """A row with only what needs no parsing: used when ``build_log_row`` fails."""
    raw = b"".join(capture.chunks)
    h = capture.helicone
    return LogRow(
        request_id=capture.request_id,
        organization_id=capture.organization_id,
        request_created_at=capture.started_at,
        latency=_ms(capture.started, capture.ended),
        status=capture.status,
        provider=capture.provider.name,
        target_url=capture.target_url,
        path=capture.path,
        is_stream=capture.is_stream,
        cache_enabled=capture.cache_enabled,
        cache_reference_id=capture.cache_reference_id,
        threat=capture.threat,
        user_id=h.user_id,
        properties=dict(h.properties),
        request_body=None if h.omit_request else capture.request_body.decode("utf-8", "replace"),
        response_body=None if h.omit_response else raw.decode("utf-8", "replace"),
        helicone_api_key_id=capture.api_key_id,
        error=error,
        request_referrer=capture.request_referrer,
        country_code=capture.country_code,
    )
