"""A log record as journal bytes, and back: a finished call's capture or a ready row.

A capture is journalled as it is, before any parsing: the call's end pays for one small JSON
header (orjson) and the raw bodies appended after it (no base64, no copy into a string); the
writer parses and prices it later. A ready row (an async log) is its JSON. Ready rows that
arrive together (an OTLP export's spans) are one payload: the field names once, then each
row's values in that order (one encode, one frame, one decode for hundreds of rows; a row
encoded on its own, as a dict, took ~7 us to journal and ~15 us to read back, a third of
what a span cost the server end to end).

Payload layout: ``u32 header length | header JSON | request body | response body``; the header
says how long each body is. A capture's header is a JSON list (its fields by place, read back
typed: ``JournalCapture``); ready rows' are objects (``{"t": "r"|"b", ...}``), as were
captures' until the list (still read).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
import struct
from collections.abc import Sequence
from typing import Any, Literal

import msgspec
import orjson

from helioscope.ingest.capture import CallCapture
from helioscope.ingest.headers import HeliconeHeaders
from helioscope.providers import ProviderFormat, provider_named
from helioscope.providers.registry import BY_NAME, CUSTOM
from helioscope.store import LogRow

_U32 = struct.Struct("<I")
_ROW_NAMES = tuple(f.name for f in dataclasses.fields(LogRow))
_ROW_FIELDS = frozenset(_ROW_NAMES)
_row_values = operator.attrgetter(*_ROW_NAMES)
_DATETIME_FIELDS = ("request_created_at", "response_created_at")
_DATETIME_INDEXES = tuple(_ROW_NAMES.index(name) for name in _DATETIME_FIELDS)
# Set on a row whose bodies were not kept: the journal was full (HELIOSCOPE_JOURNAL_MAX_BYTES).
BODIES_DROPPED_PROPERTY = "helioscope-bodies-dropped"


def _since(start: float, at: float | None) -> float | None:
    return None if at is None else at - start


def encode_capture(capture: CallCapture) -> bytes:
    """The journal payload of a finished call (bodies raw, after the header)."""
    return b"".join(capture_parts(capture))


def capture_parts(capture: CallCapture) -> list[bytes]:
    """``encode_capture``'s payload in parts, as the journal writes them.

    The header, then the request body and the response chunks as they are (no copy of a body
    per call).
    """
    request_json = capture.request_json
    # build_log_row reads only these two keys of a body the gateway parsed (or rewrote).
    hints = (
        {"model": request_json.get("model"), "user": request_json.get("user")}
        if isinstance(request_json, dict)
        else None
    )
    h = capture.helicone
    # A list, its fields by place (as ``JournalCapture`` declares them): read back ~1 us
    # sooner than an object (no dict is made, the writer looks nothing up by name). A field
    # added here goes at the end, with a new kind in place of "c" (this version refuses a list
    # of another length or kind).
    header = orjson.dumps(
        [
            "c",
            capture.request_id,
            capture.organization_id,
            capture.provider.name,
            capture.provider.price_id,
            capture.target_url,
            capture.path,
            [
                h.request_id,
                h.user_id,
                h.properties,
                h.model_override,
                h.omit_request,
                h.omit_response,
                h.stream_usage,
                h.prompt_id,
                h.prompt_version,
                h.prompt_inputs,
            ],
            capture.started_at,
            _since(capture.started, capture.first_chunk),
            _since(capture.started, capture.ended),
            capture.api_key_id,
            capture.status,
            capture.is_stream,
            capture.content_encoding,
            capture.completed,
            capture.error,
            hints,
            capture.cache_enabled,
            capture.cache_reference_id,
            capture.threat,
            capture.request_referrer,
            capture.country_code,
            len(capture.request_body),
            sum(map(len, capture.chunks)),
        ]
    )
    return [_U32.pack(len(header)) + header, capture.request_body, *capture.chunks]


def encode_row(row: LogRow) -> bytes:
    """The journal payload of a ready row."""
    header = orjson.dumps({"t": "r", "row": row})
    return _U32.pack(len(header)) + header


def encode_rows(rows: Sequence[LogRow]) -> bytes:
    """The journal payload of ready rows stored together: field names once, values per row."""
    return b"".join(rows_parts(rows))


def rows_parts(rows: Sequence[LogRow]) -> list[bytes]:
    """``encode_rows``'s payload in parts, as the journal writes them (no copy of the rows)."""
    header = orjson.dumps({"t": "b", "f": _ROW_NAMES, "rows": list(map(_row_values, rows))})
    return [_U32.pack(len(header)), header]


def _rows_from_batch(header: dict[str, Any]) -> list[LogRow]:
    names: list[str] = header["f"]
    values: list[list[Any]] = header["rows"]
    if tuple(names) != _ROW_NAMES:
        # Written by a version whose rows had other fields: by name, as a single row is.
        return [row_from_json(dict(zip(names, row, strict=True))) for row in values]
    parse = dt.datetime.fromisoformat
    rows = []
    for row in values:
        for index in _DATETIME_INDEXES:
            if row[index] is not None:
                row[index] = parse(row[index])
        rows.append(LogRow(*row))
    return rows


def _provider(name: str, price_id: str | None) -> ProviderFormat:
    known = BY_NAME.get(name)
    if known is not None:
        return known
    if name == "CUSTOM":
        return CUSTOM
    fmt = provider_named(name)
    if fmt is not None and fmt.price_id == price_id:
        return fmt
    # A host-inferred provider (provider_for_target): OpenAI's wire format, its own price id.
    return dataclasses.replace(fmt or CUSTOM, name=name, price_id=price_id)


class JournalCapture(msgspec.Struct, array_like=True):
    """A journalled capture as the log writer reads it: its header's values, typed, by place.

    msgspec decodes the header (``capture_parts``' list) straight into this: each value checked
    against its type, the start time parsed, the Helicone options a ``HeliconeHeaders``, all in
    C; ``build_log_row`` reads it as it reads a ``CallCapture`` (``capture.Captured``). Copying
    the values into a ``CallCapture`` instead cost ~4,500 instructions a row (its ``__init__``),
    and orjson's list, unpacked in Python, ~3,300 more than this decode (callgrind).

    The last four fields are not in the header: set from it and the bodies after it (a header
    with a value more than the 25 fails on ``provider``, which JSON cannot give).
    """

    kind: Literal["c"]
    request_id: str
    organization_id: str
    provider_name: str
    price_id: str | None
    target_url: str
    path: str
    helicone: HeliconeHeaders
    started_at: dt.datetime
    first_chunk: float | None  # seconds after the start (``started`` is 0 here)
    ended: float | None
    api_key_id: int | None
    status: int
    is_stream: bool
    content_encoding: str | None
    completed: bool
    error: str | None
    request_json: Any  # the request's "model" and "user", when the gateway had parsed it
    cache_enabled: bool
    cache_reference_id: str | None
    threat: bool | None
    request_referrer: str | None
    country_code: str | None
    request_len: int
    response_len: int
    provider: ProviderFormat = CUSTOM
    request_body: bytes = b""
    chunks: list[bytes] = []
    started: float = 0.0


_decode_capture = msgspec.json.Decoder(JournalCapture).decode


def _with_bodies(capture: JournalCapture, payload: bytes, start: int) -> JournalCapture:
    """``capture`` given its provider and the bodies after its header (at ``start``)."""
    middle = start + capture.request_len
    capture.provider = _provider(capture.provider_name, capture.price_id)
    capture.request_body = payload[start:middle]
    capture.chunks = [payload[middle : middle + capture.response_len]]
    return capture


def _capture_from_object(header: dict[str, Any], payload: bytes, start: int) -> JournalCapture:
    """A capture journalled by an earlier version (its header an object, fields by name)."""
    name, price_id = header["pv"]
    listed = [
        *("c", header["id"], header["org"], name, price_id, header["url"], header["path"]),
        *(header["h"], header["at"], header["fc"], header["end"], header["key"], header["st"]),
        *(header["s"], header["enc"], header["ok"], header["err"], header["rj"], header["ce"]),
        # "cc" is absent from frames journalled before the country was recorded.
        *(header["cr"], header["th"], header["ref"], header.get("cc"), *header["lens"]),
    ]
    try:
        capture = msgspec.convert(listed, JournalCapture)
    except msgspec.ValidationError as exc:
        raise ValueError(f"a journal capture of an earlier layout, unreadable: {exc}") from exc
    return _with_bodies(capture, payload, start)


def row_from_json(data: dict[str, Any]) -> LogRow:
    """A row from its JSON form (orjson's rendering of ``LogRow``)."""
    for name in _DATETIME_FIELDS:
        if data.get(name) is not None:
            data[name] = dt.datetime.fromisoformat(data[name])
    return LogRow(**{k: v for k, v in data.items() if k in _ROW_FIELDS})


def decode(payload: bytes) -> LogRow | JournalCapture:
    """The record a single-record journal payload holds."""
    records = decode_all(payload)
    if len(records) != 1:
        raise ValueError(f"a payload of {len(records)} records, not one")
    return records[0]


def decode_all(payload: bytes) -> list[LogRow] | list[JournalCapture]:
    """The records a journal payload holds: one, or a batch of rows."""
    (size,) = _U32.unpack_from(payload)
    start = 4 + size
    if payload[4:5] == b"[":  # a capture (the only record journalled as a list)
        try:
            capture = _decode_capture(payload[4:start])
        except msgspec.ValidationError as exc:  # a later version's layout, or a bad value
            raise ValueError(f"a journal capture of unknown layout: {exc}") from exc
        return [_with_bodies(capture, payload, start)]
    header: dict[str, Any] = orjson.loads(payload[4:start])
    if header.__class__ is not dict:
        raise ValueError(f"a journal record of unknown kind ({header.__class__.__name__})")
    kind = header["t"]
    if kind == "b":
        return _rows_from_batch(header)
    if kind == "r":
        return [row_from_json(header["row"])]
    if kind == "c":  # journalled by an earlier version
        return [_capture_from_object(header, payload, start)]
    raise ValueError(f"a journal record of unknown kind {kind!r}")


def body_bytes(item: LogRow | CallCapture) -> int:
    """The size of a record's bodies (what a full journal drops)."""
    if isinstance(item, CallCapture):
        return len(item.request_body) + sum(map(len, item.chunks))
    return len(item.request_body or "") + len(item.response_body or "")


def without_bodies(row: LogRow) -> LogRow:
    """``row`` with its bodies dropped and flagged (sizes, tokens and cost kept)."""
    row.request_body = None
    row.response_body = None
    row.properties = {**row.properties, BODIES_DROPPED_PROPERTY: "journal full"}
    return row
