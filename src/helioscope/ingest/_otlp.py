"""OTLP/JSON trace exports decoded into typed objects (msgspec) rather than dictionaries.

An export of 500 spans parsed by orjson is ~12,000 dictionaries and lists to build, read and
free on the event loop; decoded into these types it is a third of the objects, none of them
tracked by the collector. ``otel`` converts either form into the same rows.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import orjson

from helioscope.errors import BadRequest

# Each type admits only what the dictionary path (``otel.span_to_row``) reads the same way;
# anything else (a value that is not an object, a string where a number goes…) fails
# validation and the export is read as dictionaries instead, so every body is answered as
# before. Unknown fields are skipped, as the dictionaries ignored them.
_Unset = msgspec.UnsetType
# Integers of 64 bits (orjson reads larger ones as floats: those are left to the dictionaries).
_Int = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


class AnyValue(msgspec.Struct, gc=False):
    # UNSET: the field was not given (a null one was, and wins the same way as in ``otel._value``)
    stringValue: str | None | _Unset = msgspec.UNSET
    boolValue: bool | None | _Unset = msgspec.UNSET
    doubleValue: _Int | float | str | None | _Unset = msgspec.UNSET
    intValue: _Int | str | _Unset = msgspec.UNSET  # a string in OTLP/JSON (64 bits), or a number
    arrayValue: ArrayValue | _Unset = msgspec.UNSET


class ArrayValue(msgspec.Struct, gc=False):
    values: list[AnyValue] = []


class KeyValue(msgspec.Struct, gc=False):
    key: str | _Unset = msgspec.UNSET
    value: AnyValue | None = None


class Status(msgspec.Struct, gc=False):
    code: _Int | str | None = None


class Span(msgspec.Struct, gc=False):
    traceId: str | None = None
    spanId: str | None = None
    name: str | None = None
    startTimeUnixNano: str | _Int | None = None
    endTimeUnixNano: str | _Int | None = None
    attributes: list[KeyValue] | None = None
    status: Status | None = None


class ScopeSpans(msgspec.Struct, gc=False):
    spans: list[Span] | None = None


class ResourceSpans(msgspec.Struct, gc=False):
    scopeSpans: list[ScopeSpans | None] | None = None


class Export(msgspec.Struct, gc=False):
    resourceSpans: list[ResourceSpans | None] = []


_EXPORT = msgspec.json.Decoder(Export)


def decode_json(body: bytes) -> Any:
    """An OTLP/JSON export: typed objects if its shape is OTLP's, else as dictionaries.

    msgspec does not check the fields it skips (UTF-8, numbers' range) as orjson checked the
    whole body: a body that is not UTF-8 is left to orjson's 400. A number out of a double's
    range in a field read by neither (1e400) is the one thing now skipped instead of refused.
    """
    try:
        if body.isascii() or _utf8(body):
            return _EXPORT.decode(body)
    except msgspec.DecodeError:  # ValidationError is one
        pass
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body: malformed JSON ({exc})") from exc


def _utf8(body: bytes) -> bool:
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


def typed_value(value: AnyValue | None) -> Any:
    """``otel._value`` of the same value decoded as a dictionary."""
    if value is None:
        return None
    unset = msgspec.UNSET
    if value.stringValue is not unset:
        return value.stringValue
    if value.boolValue is not unset:
        return value.boolValue
    if value.doubleValue is not unset:
        return value.doubleValue
    if value.intValue is not unset:
        return int(value.intValue)
    if value.arrayValue is not unset:
        return [typed_value(v) for v in value.arrayValue.values]
    return None
