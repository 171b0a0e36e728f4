"""OpenTelemetry spans (OTLP, JSON or protobuf) with GenAI attributes, into log rows.

OpenLLMetry and other GenAI instrumentations describe an LLM call as a span whose attributes
follow the ``gen_ai.*`` conventions; OpenLLMetry carries Helicone's user, session and properties
in ``traceloop.association.properties.Helicone-*``. Spans without GenAI attributes (HTTP, DB…)
are not LLM calls and are skipped. A span's log id is derived from its trace and span ids, so a
span sent twice is logged once.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import functools
import hashlib
import re
import uuid
from collections.abc import Callable
from typing import Any

import msgspec
import orjson
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from helioscope.errors import BadRequest
from helioscope.ingest._otel_keys import TAIL, Plan, plan
from helioscope.ingest._otlp import Export, KeyValue, Span, decode_json, typed_value
from helioscope.ingest.pricing import cost_nano_usd
from helioscope.providers import ProviderFormat, Usage, provider_named
from helioscope.providers.registry import provider_for_target
from helioscope.store import LogRow

__all__ = ["decode_json", "decode_protobuf", "span_to_row", "spans", "trace_rows"]

_NAMESPACE = uuid.UUID("5f0c7d2e-6a43-4c1b-9a55-2f1d0e3b8c71")
_HEX = re.compile(r"[0-9a-fA-F]+")


def decode_protobuf(data: bytes) -> dict[str, Any]:
    """An OTLP ``ExportTraceServiceRequest`` in protobuf, as the OTLP/JSON dictionary."""
    message = ExportTraceServiceRequest()
    try:
        message.ParseFromString(data)
    except DecodeError as exc:
        raise BadRequest(f"body: not an OTLP protobuf ExportTraceServiceRequest ({exc})") from exc
    result: dict[str, Any] = MessageToDict(message)
    return result


def _value(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in value:
            return value[key]
    if "intValue" in value:
        return int(value["intValue"])  # OTLP/JSON writes 64-bit integers as strings
    if "arrayValue" in value:
        return [_value(v) for v in value["arrayValue"].get("values", [])]
    return None


def _int(*values: Any) -> int | None:
    """The first of ``values`` that is a number (not a boolean), as an integer."""
    for value in values:
        if value.__class__ is int:  # the usual case, first
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(value)
    return None


def _nanos(raw: Any) -> dt.datetime | None:
    if raw in (None, "", "0", 0):
        return None
    return dt.datetime.fromtimestamp(int(raw) / 1e9, dt.UTC)


def _hex_id(value: Any) -> str:
    # OTLP/JSON carries ids as hex; protobuf's JSON form as base64.
    if not isinstance(value, str):
        return ""
    if _HEX.fullmatch(value):
        return value.lower()
    try:
        return base64.b64decode(value).hex()
    except ValueError:
        return value


@functools.lru_cache(maxsize=256)
def _provider(system: str) -> ProviderFormat:
    """The provider a span's ``gen_ai.system`` names (the same few names, span after span)."""
    return provider_named(system) or provider_for_target(f"https://{system.lower()}")


# The variant's hex digit (RFC 4122: its two high bits 10) for each digit a hash gives.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
_NAMESPACE_BYTES = _NAMESPACE.bytes


def _span_uuid(name: str) -> str:
    """``str(uuid.uuid5(_NAMESPACE, name))``, without building UUID objects.

    The UUID objects took a third of the time a span took to convert. The version and the
    variant are set in the hex text (a 5 for the version's digit, the variant's digit looked
    up), which is cheaper than setting their bits in the bytes.
    """
    h = hashlib.sha1(_NAMESPACE_BYTES + name.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def _dict_attributes(attributes: Any) -> tuple[tuple[Any, ...], list[Any]]:
    """A span's attribute keys and values (most values are strings, read without a call)."""
    pairs = [
        (
            a["key"],
            v["stringValue"]
            if type(v := a.get("value")) is dict and "stringValue" in v
            else _value(v),
        )
        for a in attributes or ()
        if "key" in a
    ]
    return tuple([key for key, _ in pairs]), [value for _, value in pairs]


class _Export:
    """What the spans of one export share: the organization, the API key, the trace ids."""

    __slots__ = ("api_key_id", "org_id", "traces")

    def __init__(self, org_id: str, api_key_id: int | None) -> None:
        self.org_id = org_id
        self.api_key_id = api_key_id
        self.traces: dict[str, str] = {}  # a trace id as sent, read (most spans share a few)

    def span_key(self, trace_id: Any, span_id: Any) -> str:
        """The span's ``trace:span`` ids, read as hex (its log id is made from them)."""
        if isinstance(trace_id, str):
            trace = self.traces.get(trace_id)
            if trace is None:
                trace = self.traces[trace_id] = _hex_id(trace_id)
        else:
            trace = _hex_id(trace_id)
        return f"{trace}:{_hex_id(span_id)}"


def span_to_row(span: dict[str, Any], org_id: str, api_key_id: int | None) -> LogRow | None:
    """One GenAI span (OTLP/JSON, as a dictionary) as a log row, or None if not an LLM call."""
    return _dict_span_row(span, _Export(org_id, api_key_id))


def _dict_span_row(span: dict[str, Any], export: _Export) -> LogRow | None:
    keys, values = _dict_attributes(span.get("attributes"))
    found = plan(keys)
    if not found.is_llm:
        return None
    return _row(
        found,
        values,
        span.get("startTimeUnixNano"),
        span.get("endTimeUnixNano"),
        span.get("name"),
        (span.get("status") or {}).get("code"),
        export.span_key(span.get("traceId"), span.get("spanId")),
        export,
    )


def _row(
    found: Plan,
    values: list[Any],
    start_nanos: Any,
    end_nanos: Any,
    name: Any,
    status_code: Any,
    span_key: str,
    export: _Export,
) -> LogRow:
    values += TAIL  # what the plan's indexes -1 and -2 read
    (system, provider_name, request_model, response_model, *counts, user, llm_user, address) = (
        found.read(values)
    )
    provider = _provider(str(system or provider_name or ""))
    model = str(response_model or request_model or "")
    prompt = _int(counts[0], counts[1])
    completion = _int(counts[2], counts[3])
    total = _int(counts[4], counts[5])
    usage = Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total if total is not None else (prompt or 0) + (completion or 0),
        prompt_cache_read_tokens=_int(counts[6]),
    )
    user = user or llm_user
    start = _nanos(start_nanos) or dt.datetime.now(dt.UTC)
    end = _nanos(end_nanos) or start
    messages = [{field: values[at] for field, at in message} for message in found.prompt]
    choices = [
        {
            "index": i,
            "message": {"role": values[role], "content": values[content]},
            "finish_reason": values[finish],
        }
        for i, (role, content, finish) in enumerate(found.choices)
    ]
    request_body = {"model": request_model, "messages": messages}
    response_body = {
        "model": model,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": usage.total_tokens,
        },
    }
    failed = status_code in (2, "STATUS_CODE_ERROR")
    return LogRow(
        request_id=_span_uuid(f"{export.org_id}:{span_key}"),
        organization_id=export.org_id,
        request_created_at=start,
        response_created_at=end,
        latency=max(0, round((end - start).total_seconds() * 1000)),
        status=500 if failed else 200,
        provider=provider.name,
        model=model,
        request_model=str(request_model) if request_model else None,
        response_model=str(response_model) if response_model else None,
        user_id=str(user) if user is not None else None,
        target_url=str(address or name or ""),
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=usage.total_tokens,
        prompt_cache_read_tokens=usage.prompt_cache_read_tokens,
        cost=cost_nano_usd(provider, model, usage),
        properties={name: str(values[at]) for name, at in found.properties},
        request_body=orjson.dumps(request_body).decode(),
        response_body=orjson.dumps(response_body).decode(),
        helicone_api_key_id=export.api_key_id,
    )


def spans(payload: Any) -> list[dict[str, Any]]:
    """Every span of an OTLP/JSON ``ExportTraceServiceRequest``; 400 for a malformed one."""
    return [span for _, span in _placed_spans(payload)]


def _placed_spans(payload: Any) -> list[tuple[tuple[int, int, int], dict[str, Any]]]:
    """``spans`` with each one's place in the export, for the message of a 400."""
    if not isinstance(payload, dict) or not isinstance(payload.get("resourceSpans", []), list):
        raise BadRequest("body: expected an OTLP trace export with resourceSpans")
    out: list[tuple[tuple[int, int, int], dict[str, Any]]] = []
    for r, resource in enumerate(payload.get("resourceSpans", [])):
        if not isinstance(resource, dict | None):
            raise BadRequest(f"resourceSpans[{r}]: expected an object")
        scopes = (resource or {}).get("scopeSpans") or []
        if not isinstance(scopes, list):
            raise BadRequest(f"resourceSpans[{r}].scopeSpans: expected a list")
        for s, scope in enumerate(scopes):
            if not isinstance(scope, dict | None):
                raise BadRequest(f"resourceSpans[{r}].scopeSpans[{s}]: expected an object")
            found = (scope or {}).get("spans") or []
            if not isinstance(found, list) or not all(isinstance(x, dict) for x in found):
                raise BadRequest(
                    f"resourceSpans[{r}].scopeSpans[{s}].spans: expected a list of spans"
                )
            out += (((r, s, i), x) for i, x in enumerate(found))
    return out


def _typed_attributes(attributes: list[KeyValue] | None) -> tuple[tuple[Any, ...], list[Any]]:
    """``_dict_attributes`` of typed attributes."""
    unset = msgspec.UNSET
    if not attributes:
        return (), []
    keys = tuple([a.key for a in attributes])
    if unset in keys:  # an attribute without a key is skipped, as the dictionaries skip it
        attributes = [a for a in attributes if a.key is not unset]
        keys = tuple([a.key for a in attributes])
    values = [
        v.stringValue
        if (v := a.value) is not None and v.stringValue is not unset
        else typed_value(v)
        for a in attributes
    ]
    return keys, values


def _typed_span_row(span: Span, export: _Export) -> LogRow | None:
    """``_dict_span_row`` of a typed span."""
    keys, values = _typed_attributes(span.attributes)
    found = plan(keys)
    if not found.is_llm:
        return None
    status = span.status
    return _row(
        found,
        values,
        span.startTimeUnixNano,
        span.endTimeUnixNano,
        span.name,
        status.code if status is not None else None,
        export.span_key(span.traceId, span.spanId),
        export,
    )


def _typed_spans(payload: Export) -> list[tuple[tuple[int, int, int], Span]]:
    """Every span of a typed export, with its place in it."""
    return [
        ((r, s, i), span)
        for r, resource in enumerate(payload.resourceSpans)
        if resource is not None
        for s, scope in enumerate(resource.scopeSpans or ())
        if scope is not None
        for i, span in enumerate(scope.spans or ())
    ]


def _place(at: tuple[int, int, int]) -> str:
    r, s, i = at
    return f"resourceSpans[{r}].scopeSpans[{s}].spans[{i}]"


# Spans converted between two yields to the event loop (~15 us each: ~5 ms).
_SPANS_PER_TURN = 300


async def trace_rows(payload: Any, org_id: str, api_key_id: int | None) -> list[LogRow]:
    """The log rows of every GenAI span in an OTLP export.

    An export batches many spans (hundreds): converting them all at once held the event loop
    for tens of milliseconds, in which the log writer (on the same loop, yielding every half
    millisecond) made no progress at all, so under a steady batch load nothing was stored
    until the load stopped (``bench/ingest.py --otlp``). Yielding every few milliseconds
    shares the loop.
    """
    rows = []
    export = _Export(org_id, api_key_id)
    found: list[tuple[tuple[int, int, int], Any]]
    if isinstance(payload, Export):
        found = _typed_spans(payload)
        convert: Callable[[Any, _Export], LogRow | None] = _typed_span_row
    else:
        found, convert = _placed_spans(payload), _dict_span_row
    for n, (place, span) in enumerate(found, 1):
        try:
            row = convert(span, export)
        except BadRequest:
            raise
        except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as exc:
            # A value of the wrong shape deep in a span (an arrayValue of null, an intValue
            # that is no number): the client's mistake, named, and nothing of the export kept.
            raise BadRequest(
                f"{_place(place)}: not a valid OTLP span ({type(exc).__name__}: {exc})"
            ) from exc
        if row is not None:
            rows.append(row)
        if n % _SPANS_PER_TURN == 0:
            await asyncio.sleep(0)
    return rows
