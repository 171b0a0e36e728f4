"""A record survives the journal: every field the writer builds a row from comes back as it went.

The journal encodes a capture field by field (a compact header, then the raw bodies), so a field
added to ``CallCapture`` and forgotten here would be dropped from every logged call silently.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest

from helioscope.ingest._journal import _IOV_MAX, HEADER, Journal, read_frames, segments
from helioscope.ingest._records import (
    _U32,
    JournalCapture,
    capture_parts,
    decode,
    decode_all,
    encode_capture,
    encode_row,
    encode_rows,
)
from helioscope.ingest.capture import CallCapture, build_log_row
from helioscope.ingest.headers import HeliconeHeaders
from helioscope.providers.registry import BY_NAME
from helioscope.store import LogRow

# What the journal deliberately keeps in another form: the clock origin (times are kept relative
# to it, so it comes back as 0), and the parsed request (only the keys the row reads).
REFORMED = {"started", "request_json"}


def every_field_set() -> CallCapture:
    """A capture whose every field differs from its default."""
    return CallCapture(
        request_id="req-1",
        organization_id="org-1",
        provider=BY_NAME["ANTHROPIC"],
        target_url="https://api.anthropic.com/v1/messages",
        path="/v1/messages",
        helicone=HeliconeHeaders(
            request_id="req-1",
            user_id="u-1",
            properties={"team": "core"},
            model_override="m-override",
            omit_request=True,
            omit_response=True,
            stream_usage=True,
            prompt_id="p-1",
            prompt_version="v-2",
            prompt_inputs={"city": "Lisbon"},
        ),
        request_body=b'{"model": "claude", "user": "u-1"}',
        started_at=dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC),
        started=0.0,
        api_key_id=7,
        status=201,
        first_chunk=0.25,
        ended=1.5,
        is_stream=True,
        content_encoding="gzip",
        chunks=[b"data: {}\n\n"],
        completed=False,
        error="upstream reset",
        request_json={"model": "claude", "user": "u-1"},
        cache_enabled=True,
        cache_reference_id="req-0",
        threat=True,
        request_referrer="ai-gateway",
        country_code="DE",
    )


def test_every_field_of_a_capture_round_trips() -> None:
    sent = every_field_set()
    defaults = {
        f.name: f.default
        for f in dataclasses.fields(CallCapture)
        if f.default is not dataclasses.MISSING
    }
    unset = [name for name, default in defaults.items() if getattr(sent, name) == default]
    assert unset == [], f"set these in every_field_set() so the test covers them: {unset}"

    back = decode(encode_capture(sent))
    assert isinstance(back, JournalCapture)
    fields: dict[str, Any] = {
        f.name: (getattr(sent, f.name), getattr(back, f.name))
        for f in dataclasses.fields(CallCapture)
        if f.name not in REFORMED
    }
    lost = {name: pair for name, pair in fields.items() if pair[0] != pair[1]}
    assert lost == {}, f"fields the journal dropped or changed (sent, back): {lost}"
    assert back.request_json == {"model": "claude", "user": "u-1"}


async def test_a_capture_in_more_parts_than_one_writev_takes_is_journalled_whole(
    tmp_path: Path,
) -> None:
    # The journal writes a call's parts as they are (header, request body, each response
    # chunk) with one writev; a stream of more chunks than the system takes in one call is
    # joined first. Either way the frame reads back as the one encode_capture describes.
    small, many = every_field_set(), every_field_set()
    many.chunks = [b"data: %d\n\n" % i for i in range(_IOV_MAX + 10)]
    log = Journal(tmp_path, "0", segment_bytes=1 << 20, fsync_ms=0)
    log.open()
    sizes = [log.append(capture_parts(small)), log.append(capture_parts(many))]
    await log.close()
    (segment,) = segments(tmp_path / "0")
    read = read_frames(tmp_path / "0" / segment, 0, max_bytes=1 << 20, max_count=10)
    assert not read.bad
    assert read.payloads == [encode_capture(small), encode_capture(many)]
    assert sizes == [HEADER.size + len(p) for p in read.payloads]
    back = decode(read.payloads[1])
    assert isinstance(back, JournalCapture)
    assert back.chunks == [b"".join(many.chunks)]


def test_the_writer_builds_the_same_row_from_a_journalled_capture() -> None:
    # The writer builds rows from the journal's typed record, not a CallCapture: the row is
    # the one the capture itself gives, its times in UTC's own tzinfo (the writer's SQLite
    # timestamps take their fast path on it).
    for sent in (every_field_set(), _plain_capture()):
        back = decode(encode_capture(sent))
        assert isinstance(back, JournalCapture)
        assert back.started_at.tzinfo is dt.UTC
        assert build_log_row(back) == build_log_row(sent)


def _plain_capture() -> CallCapture:
    """A call with no Helicone option, a JSON answer, the body not parsed by the gateway."""
    return CallCapture(
        request_id="req-2",
        organization_id="org-1",
        provider=BY_NAME["OPENAI"],
        target_url="https://api.openai.com/v1/chat/completions",
        path="/v1/chat/completions",
        helicone=HeliconeHeaders(),
        request_body=b'{"model": "gpt-4o-mini", "user": "u-2", "messages": []}',
        started_at=dt.datetime(2026, 12, 6, 12, 0, 0, 123456, tzinfo=dt.UTC),
        started=100.0,
        status=200,
        ended=100.25,
        chunks=[b'{"model": "gpt-4o-mini-2024-07-18", "usage": {"prompt_tokens": 9}}'],
    )


def test_a_capture_header_with_a_value_of_the_wrong_type_is_refused() -> None:
    # The header is decoded typed: a value that is not what its place holds (a later version's
    # layout under the same kind, or damage) is a ValueError, which the writer dead-letters.
    current = encode_capture(every_field_set())
    (size,) = _U32.unpack_from(current)
    fields = orjson.loads(current[4 : 4 + size])
    status = fields.index(201)
    for place, value in ((status, "201"), (7, "req-1"), (8, "yesterday")):
        header = orjson.dumps([*fields[:place], value, *fields[place + 1 :]])
        with pytest.raises(ValueError, match="capture of unknown layout"):
            decode_all(_U32.pack(len(header)) + header + current[4 + size :])


def every_row_field_set(n: int) -> LogRow:
    """A row whose every field differs from its default (``n`` tells rows apart)."""
    at = dt.datetime(2026, 12, 6, 12, 0, n, 123456, tzinfo=dt.UTC)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(LogRow):
        if f.type in ("str", "str | None"):
            values[f.name] = f"{f.name}-{n}"
        elif f.type in ("int", "int | None"):
            values[f.name] = 1000 + n
        elif f.type in ("bool", "bool | None"):
            values[f.name] = True
    values.update(
        request_created_at=at,
        response_created_at=at + dt.timedelta(milliseconds=250),
        properties={"Helicone-Session-Id": f"s-{n}", "team": "core"},
        scores={"accuracy": 0.5 + n},
        prompt_inputs={"city": "Lisbon", "n": n},
    )
    return LogRow(**values)


def test_rows_journalled_together_come_back_as_they_went() -> None:
    rows = [every_row_field_set(n) for n in range(3)]
    defaults = LogRow(
        request_id="",
        organization_id="",
        request_created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        status=0,
        provider="",
    )
    unset = [
        f.name
        for f in dataclasses.fields(LogRow)
        if getattr(rows[0], f.name) == getattr(defaults, f.name)
    ]
    assert unset == [], f"set these in every_row_field_set() so the test covers them: {unset}"
    back = decode_all(encode_rows(rows))
    assert back == rows
    # One row alone, as the async log journals it, is unchanged (frames already on disk).
    assert decode(encode_row(rows[0])) == rows[0]
    assert decode_all(encode_row(rows[1])) == [rows[1]]
    with pytest.raises(ValueError, match="3 records"):
        decode(encode_rows(rows))


def test_rows_journalled_with_other_fields_are_read_by_name() -> None:
    """A batch written by a version whose rows had other fields (one gone, one new) replays."""
    row = every_row_field_set(1)
    sent = orjson.loads(orjson.dumps(row))
    del sent["country_code"]  # a field this version added
    sent["retired_field"] = "x"  # a field a later version dropped
    header = orjson.dumps({"t": "b", "f": list(sent), "rows": [list(sent.values())]})
    (back,) = decode_all(_U32.pack(len(header)) + header)
    assert back == dataclasses.replace(row, country_code=None)


def _previous_capture_payload(capture: CallCapture, *, country: bool = True) -> bytes:
    """A capture as the previous version journalled it: its header an object, fields by name."""
    h = capture.helicone
    fields: dict[str, Any] = {
        "t": "c",
        "id": capture.request_id,
        "org": capture.organization_id,
        "pv": [capture.provider.name, capture.provider.price_id],
        "url": capture.target_url,
        "path": capture.path,
        "h": [
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
        "at": capture.started_at,
        "fc": capture.first_chunk,
        "end": capture.ended,
        "key": capture.api_key_id,
        "st": capture.status,
        "s": capture.is_stream,
        "enc": capture.content_encoding,
        "ok": capture.completed,
        "err": capture.error,
        "rj": capture.request_json,
        "ce": capture.cache_enabled,
        "cr": capture.cache_reference_id,
        "th": capture.threat,
        "ref": capture.request_referrer,
        "cc": capture.country_code,
        "lens": [len(capture.request_body), sum(map(len, capture.chunks))],
    }
    if not country:  # journalled before the country code was recorded
        del fields["cc"]
    header = orjson.dumps(fields)
    return b"".join([_U32.pack(len(header)), header, capture.request_body, *capture.chunks])


def test_a_capture_journalled_by_the_previous_version_is_read_as_before() -> None:
    # Its header was an object; a journal left by it (an upgrade with records not yet
    # stored) replays to the same capture as this version's list header gives.
    sent = every_field_set()
    old = decode(_previous_capture_payload(sent))
    new = decode(encode_capture(sent))
    assert old == new
    assert isinstance(old, JournalCapture)
    assert old.request_body == sent.request_body
    assert old.chunks == sent.chunks
    older = decode(_previous_capture_payload(sent, country=False))
    assert isinstance(new, JournalCapture)
    assert older == msgspec.structs.replace(new, country_code=None)


def test_a_record_of_an_unknown_kind_is_refused_by_name() -> None:
    header = orjson.dumps({"t": "z"})
    with pytest.raises(ValueError, match="unknown kind 'z'"):
        decode_all(_U32.pack(len(header)) + header)
    # A capture's list header of another layout (a later version's) is refused as such.
    current = encode_capture(every_field_set())
    (size,) = _U32.unpack_from(current)
    fields = orjson.loads(current[4 : 4 + size])
    for other in (["c2", *fields[1:]], [*fields, "new"]):
        header = orjson.dumps(other)
        with pytest.raises(ValueError, match="capture of unknown layout"):
            decode_all(_U32.pack(len(header)) + header)
