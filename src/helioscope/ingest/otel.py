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
from typing import Any

import msgspec
import orjson
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from helioscope.errors import BadRequest
from helioscope.ingest._otlp import Export, KeyValue, Span, decode_json, typed_value
from helioscope.ingest.pricing import cost_nano_usd
from helioscope.providers import ProviderFormat, Usage, provider_named
from helioscope.providers.registry import provider_for_target
from helioscope.store import LogRow

__all__ = ["decode_json", "decode_protobuf", "span_to_row", "spans", "trace_rows"]

_NAMESPACE = uuid.UUID("5f0c7d2e-6a43-4c1b-9a55-2f1d0e3b8c71")
_ASSOCIATION = "traceloop.association.properties."
_INDEXED = re.compile(r"^gen_ai\.(prompt|completion)\.(\d+)\.(\w+)$")
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


_HELICONE = f"{_ASSOCIATION}Helicone-"
_PROPERTY = "Helicone-Property-"


# A key's part in a span, found once per distinct key (spans repeat the same few keys):
# (_LLM,) a GenAI key, (_MESSAGE, kind, index, field) one of a message, (_PROPERTY_OF, name)
# Helicone's, (_OTHER,) none. At most _KINDS_MAX keys are kept (a client could send any).
_OTHER, _LLM, _MESSAGE, _PROPERTY_OF = 0, 1, 2, 3
_KINDS: dict[str, tuple[Any, ...]] = {}
_KINDS_MAX = 4096


def _kind(key: str) -> tuple[Any, ...]:
    if key.startswith("gen_ai."):
        # ``gen_ai.<kind>.<index>.<field>``: plain ASCII split at once, the rest by the
        # regular expression (two of every three attributes are not messages at all).
        kind = (
            "prompt"
            if key.startswith("gen_ai.prompt.")
            else "completion"
            if key.startswith("gen_ai.completion.")
            else None
        )
        if kind is None:
            return (_LLM,)
        index, _, field = key[len(kind) + 8 :].partition(".")
        if not (
            index.isascii()
            and index.isdigit()
            and field.isascii()
            and field.replace("_", "a").isalnum()
        ):
            match = _INDEXED.match(key)
            if not match:
                return (_LLM,)
            index, field = match.group(2), match.group(3)
        return (_MESSAGE, kind, int(index), field)
    if key.startswith("llm."):
        return (_LLM,)
    if key.startswith(_HELICONE):
        name = key[len(_ASSOCIATION) :]
        if name.startswith(_PROPERTY):
            return (_PROPERTY_OF, name[len(_PROPERTY) :])
        if name != "Helicone-User-Id":
            return (_PROPERTY_OF, name)
    return (_OTHER,)


class _Sorted:
    """A span's attributes in one pass: as a dictionary, LLM call or not, messages, properties."""

    __slots__ = ("attrs", "completion", "is_llm", "prompt", "properties")

    def __init__(self, pairs: list[tuple[Any, Any]]) -> None:
        """``pairs``: a span's attributes, key and value (``_dict_pairs``, ``_typed_pairs``)."""
        self.is_llm = False
        found: dict[str, dict[int, dict[str, Any]]] = {"prompt": {}, "completion": {}}
        self.attrs: dict[str, Any] = {}
        self.properties: dict[str, str] = {}
        attrs, properties, kinds = self.attrs, self.properties, _KINDS
        for key, value in pairs:
            attrs[key] = value  # a key given twice: its last value
            kind = kinds.get(key)
            if kind is None:
                kind = _kind(key)
                if len(kinds) >= _KINDS_MAX:
                    kinds.clear()
                kinds[key] = kind
            tag = kind[0]
            if tag == _OTHER:
                continue
            if tag == _PROPERTY_OF:
                properties[kind[1]] = str(value)
                continue
            self.is_llm = True
            if tag == _MESSAGE:
                found[kind[1]].setdefault(kind[2], {})[kind[3]] = value
        prompt, completion = found["prompt"], found["completion"]
        # The prompt's and the completion's messages (``gen_ai.prompt.<i>.<field>``), in order.
        self.prompt = [prompt[i] for i in sorted(prompt)]
        self.completion = [completion[i] for i in sorted(completion)]


def _int(attrs: dict[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = attrs.get(key)
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


def _span_uuid(name: str) -> str:
    """``str(uuid.uuid5(_NAMESPACE, name))``, without building UUID objects.

    The UUID objects took a third of the time a span took to convert.
    """
    digest = bytearray(hashlib.sha1(_NAMESPACE.bytes + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _dict_pairs(attributes: Any) -> list[tuple[Any, Any]]:
    """Key and value of each attribute: most values are strings, read without a call."""
    return [
        (
            a["key"],
            v["stringValue"]
            if type(v := a.get("value")) is dict and "stringValue" in v
            else _value(v),
        )
        for a in attributes or ()
        if "key" in a
    ]


def span_to_row(span: dict[str, Any], org_id: str, api_key_id: int | None) -> LogRow | None:
    """One GenAI span (OTLP/JSON, as a dictionary) as a log row, or None if not an LLM call."""
    sorted_ = _Sorted(_dict_pairs(span.get("attributes")))
    if not sorted_.is_llm:
        return None
    return _row(
        sorted_,
        span.get("startTimeUnixNano"),
        span.get("endTimeUnixNano"),
        span.get("name"),
        (span.get("status") or {}).get("code"),
        f"{_hex_id(span.get('traceId'))}:{_hex_id(span.get('spanId'))}",
        org_id,
        api_key_id,
    )


def _row(
    sorted_: _Sorted,
    start_nanos: Any,
    end_nanos: Any,
    name: Any,
    status_code: Any,
    span_key: str,
    org_id: str,
    api_key_id: int | None,
) -> LogRow:
    attrs = sorted_.attrs
    system = str(attrs.get("gen_ai.system") or attrs.get("gen_ai.provider.name") or "")
    provider = _provider(system)
    request_model = attrs.get("gen_ai.request.model")
    model = str(attrs.get("gen_ai.response.model") or request_model or "")
    prompt = _int(attrs, "gen_ai.usage.prompt_tokens", "gen_ai.usage.input_tokens")
    completion = _int(attrs, "gen_ai.usage.completion_tokens", "gen_ai.usage.output_tokens")
    total = _int(attrs, "llm.usage.total_tokens", "gen_ai.usage.total_tokens")
    usage = Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total if total is not None else (prompt or 0) + (completion or 0),
        prompt_cache_read_tokens=_int(attrs, "gen_ai.usage.cache_read_input_tokens"),
    )
    user = attrs.get(f"{_ASSOCIATION}Helicone-User-Id") or attrs.get("llm.user")
    start = _nanos(start_nanos) or dt.datetime.now(dt.UTC)
    end = _nanos(end_nanos) or start
    messages, completions = sorted_.prompt, sorted_.completion
    choices = [
        {
            "index": i,
            "message": {"role": c.get("role", "assistant"), "content": c.get("content")},
            "finish_reason": c.get("finish_reason"),
        }
        for i, c in enumerate(completions)
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
        request_id=_span_uuid(f"{org_id}:{span_key}"),
        organization_id=org_id,
        request_created_at=start,
        response_created_at=end,
        latency=max(0, round((end - start).total_seconds() * 1000)),
        status=500 if failed else 200,
        provider=provider.name,
        model=model,
        request_model=str(request_model) if request_model else None,
        response_model=str(attrs["gen_ai.response.model"])
        if attrs.get("gen_ai.response.model")
        else None,
        user_id=str(user) if user is not None else None,
        target_url=str(attrs.get("server.address") or name or ""),
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=usage.total_tokens,
        prompt_cache_read_tokens=usage.prompt_cache_read_tokens,
        cost=cost_nano_usd(provider, model, usage),
        properties=sorted_.properties,
        request_body=orjson.dumps(request_body).decode(),
        response_body=orjson.dumps(response_body).decode(),
        helicone_api_key_id=api_key_id,
    )


def spans(payload: Any) -> list[dict[str, Any]]:
    """Every span of an OTLP/JSON ``ExportTraceServiceRequest``; 400 for a malformed one."""
    return [span for _, span in _placed_spans(payload)]


def _placed_spans(payload: Any) -> list[tuple[str, dict[str, Any]]]:
    """``spans`` with each one's place in the export, for the message of a 400."""
    if not isinstance(payload, dict) or not isinstance(payload.get("resourceSpans", []), list):
        raise BadRequest("body: expected an OTLP trace export with resourceSpans")
    out: list[tuple[str, dict[str, Any]]] = []
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
            out += (
                (f"resourceSpans[{r}].scopeSpans[{s}].spans[{i}]", x) for i, x in enumerate(found)
            )
    return out


def _typed_pairs(attributes: list[KeyValue] | None) -> list[tuple[Any, Any]]:
    """``_dict_pairs`` of typed attributes."""
    unset = msgspec.UNSET
    return [
        (
            a.key,
            v.stringValue
            if (v := a.value) is not None and v.stringValue is not unset
            else typed_value(v),
        )
        for a in attributes or ()
        if a.key is not unset
    ]


def _typed_span_to_row(span: Span, org_id: str, api_key_id: int | None) -> LogRow | None:
    """``span_to_row`` of a typed span."""
    sorted_ = _Sorted(_typed_pairs(span.attributes))
    if not sorted_.is_llm:
        return None
    status = span.status
    return _row(
        sorted_,
        span.startTimeUnixNano,
        span.endTimeUnixNano,
        span.name,
        status.code if status is not None else None,
        f"{_hex_id(span.traceId)}:{_hex_id(span.spanId)}",
        org_id,
        api_key_id,
    )


# Spans converted between two yields to the event loop (~50 us each: ~5 ms).
_SPANS_PER_TURN = 100


async def trace_rows(payload: Any, org_id: str, api_key_id: int | None) -> list[LogRow]:
    """The log rows of every GenAI span in an OTLP export.

    An export batches many spans (hundreds): converting them all at once held the event loop
    for tens of milliseconds, in which the log writer (on the same loop, yielding every half
    millisecond) made no progress at all, so under a steady batch load nothing was stored
    until the load stopped (``bench/ingest.py --otlp``). Yielding every few milliseconds
    shares the loop.
    """
    rows = []
    found: list[tuple[str, Any]]
    if isinstance(payload, Export):
        found = [
            (f"resourceSpans[{r}].scopeSpans[{s}].spans[{i}]", span)
            for r, resource in enumerate(payload.resourceSpans)
            if resource is not None
            for s, scope in enumerate(resource.scopeSpans or ())
            if scope is not None
            for i, span in enumerate(scope.spans or ())
        ]
        convert: Any = _typed_span_to_row
    else:
        found, convert = _placed_spans(payload), span_to_row
    for n, (place, span) in enumerate(found, 1):
        try:
            row = convert(span, org_id, api_key_id)
        except BadRequest:
            raise
        except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as exc:
            # A value of the wrong shape deep in a span (an arrayValue of null, an intValue
            # that is no number): the client's mistake, named, and nothing of the export kept.
            raise BadRequest(
                f"{place}: not a valid OTLP span ({type(exc).__name__}: {exc})"
            ) from exc
        if row is not None:
            rows.append(row)
        if n % _SPANS_PER_TURN == 0:
            await asyncio.sleep(0)
    return rows
