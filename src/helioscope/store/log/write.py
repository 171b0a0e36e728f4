"""The request log's write path on SQLite/PostgreSQL: a batch of rows in one transaction.

This is the one query code that reaches ``db.conn`` (the driver's executemany on tuples): the
writer's hot path. Another engine keeping the log has a write path of its own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import operator
from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any, TypeVar

import orjson

from helioscope.store._runner import Db
from helioscope.store.log import _session_summary as session_summary
from helioscope.store.records import LogRow
from helioscope.store.tables.log import request_body, request_response

_KEY = ("organization_id", "request_id")
_T = TypeVar("_T")
_U = TypeVar("_U")


def _clean(value: Any) -> Any:
    # PostgreSQL text and JSONB cannot hold NUL; a log record must not be refused for one.
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


_EMPTY: dict[str, Any] = {}


def _json_document(value: Any) -> str:
    """``value`` serialised once, for the store (a NUL escape cleaned out first).

    (Its callers answer None and ``{}``, most rows' scores and properties, without a call.)
    """
    text = orjson.dumps(value)
    if b"\\u0000" in text:
        text = orjson.dumps(_clean(value))
    return text.decode()


# A row's parameters are built straight from its LogRow, in the statement's column order: its
# fields that go to the driver as they are (one C-level attrgetter call), then its timestamps
# and JSON documents, converted, then the columns the writer derives. (Through a dict per row
# and a converter call per column, the conversion cost ~7 us a row, a fifth of the writer.)
_BODIES = ("request_body", "response_body")
_TIMES = ("request_created_at", "response_created_at")
_JSON_FIELDS = ("properties", "scores", "prompt_inputs")
_PLAIN = tuple(
    f.name for f in dataclasses.fields(LogRow) if f.name not in (*_BODIES, *_TIMES, *_JSON_FIELDS)
)
# updated_at, and copies of the Helicone-Session-* properties (indexed session columns).
_DERIVED = ("updated_at", "session_id", "session_name", "session_path")
_COLUMNS = (*_PLAIN, *_TIMES, *_JSON_FIELDS, *_DERIVED)
_REQUEST_ID, _ORG = _COLUMNS.index("request_id"), _COLUMNS.index("organization_id")
_SESSION_ID, _SESSION_NAME = _COLUMNS.index("session_id"), _COLUMNS.index("session_name")
_TEXT_FIELDS = tuple(
    f.name for f in dataclasses.fields(LogRow) if f.name in _PLAIN and "str" in str(f.type)
)
_BODY_COLUMNS = ("request_id", "organization_id", "request_body", "response_body")

_get_plain = operator.attrgetter(*_PLAIN)
_session_id_of = operator.itemgetter(_SESSION_ID)
# A row's text fields, taken from its plain values (indexing a tuple): ~900 instructions a row
# fewer than reading each from the row a second time (_row_params: 21,200 -> 20,300, callgrind).
_texts_of = operator.itemgetter(*(_PLAIN.index(name) for name in _TEXT_FIELDS))


_Times = Callable[[Sequence[dt.datetime | None]], Sequence[Any]]
_get_created, _get_responded = map(operator.attrgetter, _TIMES)


def _row_params(rows: list[LogRow], times: _Times, now: Any) -> list[tuple[Any, ...]]:
    """Each row's parameters for the upsert (``_COLUMNS``), ``now`` its updated_at."""
    params: list[tuple[Any, ...]] = []
    append = params.append
    # Each timestamp column converted for the whole slice in one call (on SQLite, one orjson
    # call: ~4,200 instructions a value fewer than a Python call a value).
    created = times(list(map(_get_created, rows)))
    responded = times(list(map(_get_responded, rows)))
    # NUL is rare: look for it in every text field of the slice with one C-speed scan (a loop
    # over the ~16 fields cost ~1.5 us a row; a scan a row, ~0.15 us), and only when one has
    # it, look row by row, cleaning the rows that have it.
    plains = list(map(_get_plain, rows))
    any_nul = "\x00" in "".join(filter(None, chain.from_iterable(map(_texts_of, plains))))
    for row, plain, created_at, responded_at in zip(rows, plains, created, responded, strict=True):
        if any_nul and "\x00" in "".join(filter(None, _texts_of(plain))):
            plain = tuple(map(_clean, plain))
        properties = row.properties
        if properties:
            session_id = _clean(properties.get("Helicone-Session-Id"))
            session_name = _clean(properties.get("Helicone-Session-Name"))
            # A session without a name has name '' (so it groups with itself on both engines).
            if session_name is None and session_id:
                session_name = ""
            session_path = _clean(properties.get("Helicone-Session-Path"))
        else:
            session_id = session_name = session_path = None
        append(
            plain
            + (
                created_at,
                responded_at,
                # Most rows' properties and scores are {}: no call for them (~0.15 us each).
                "{}" if properties == _EMPTY else _json_document(properties),
                "{}" if (scores := row.scores) == _EMPTY else _json_document(scores),
                None if (inputs := row.prompt_inputs) is None else _json_document(inputs),
                now,
                session_id,
                session_name,
                session_path,
            )
        )
    return params


def _body_params(rows: list[LogRow], params: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The bodies' upsert parameters of the rows that kept a body, NUL cleaned out."""
    bodies: list[tuple[Any, ...]] = []
    append = bodies.append
    for row, p in zip(rows, params, strict=True):
        request, response = row.request_body, row.response_body
        if request is None and response is None:
            continue
        # _clean written out (two calls a row): a body is a str or None; NUL is rare.
        if request is not None and "\x00" in request:
            request = request.replace("\x00", "\ufffd")
        if response is not None and "\x00" in response:
            response = response.replace("\x00", "\ufffd")
        append((p[_REQUEST_ID], p[_ORG], request, response))
    return bodies


_first, _second = operator.itemgetter(0), operator.itemgetter(1)


def by_org(keys: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Keys grouped by organization.

    An ``org = ? AND id IN (…)`` lookup uses the index on both engines; a row-value
    ``(org, id) IN (…)`` list does not on SQLite, which then scans the table.
    """
    orgs = set(map(_first, keys))
    if len(orgs) == 1:  # the usual batch: one organization's keys, gathered in C
        return {orgs.pop(): list(map(_second, keys))}
    grouped: dict[str, list[str]] = {}
    for org, key in keys:
        grouped.setdefault(org, []).append(key)
    return grouped


# Keys looked up per statement: a few fixed sizes, the last part padded (by repeating a key),
# so that the driver sees a handful of statements (PostgreSQL prepares each one once).
_LOOKUP_SIZES = (16, 128, 500)


async def _existing_sessions(
    db: Db, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], str | None]:
    """For the rows of this batch already in the log: their current session id.

    Run on the driver's plain parameters, as the upsert is, scoped to each organization by
    the statement (``organization_id = ?``, the first parameter).
    """
    found: dict[tuple[str, str], str | None] = {}
    returned = ("request_id", "session_id")
    for org, ids in by_org(keys).items():
        for start in range(0, len(ids), _LOOKUP_SIZES[-1]):
            part = ids[start : start + _LOOKUP_SIZES[-1]]
            size = next(size for size in _LOOKUP_SIZES if size >= len(part))
            lookup = db.dialect.keys_in_org(request_response, "request_id", returned, size)
            params = (org, *part, *[part[-1]] * (size - len(part)))
            for request_id, session_id in await lookup.rows(db.conn, params):
                found[(org, request_id)] = session_id
    return found


_SLICE = 100


async def _in_slices(items: list[_T], convert: Callable[[list[_T]], list[_U]]) -> list[_U]:
    """``convert(items)``, a slice at a time, letting the event loop run between slices.

    The store shares its event loop with the gateway: a batch of 2,000 rows converted in one
    go would hold every call in flight for ~20 ms.
    """
    if len(items) <= _SLICE:
        return convert(items)
    out: list[_U] = []
    for start in range(0, len(items), _SLICE):
        out.extend(convert(items[start : start + _SLICE]))
        await asyncio.sleep(0)
    return out


async def insert_log_rows(db: Db, rows: list[LogRow]) -> None:
    """Insert (or replace, by organization and request id) a batch of rows.

    Everything happens in ``db``'s transaction, so a caller can commit more with the rows (the
    journal's position) or nothing at all.
    """
    if not rows:
        return
    # One statement per distinct key: a multi-row upsert may not touch the same key twice.
    latest = {(row.organization_id, row.request_id): row for row in rows}
    replaced = await _existing_sessions(db, list(latest))
    kept = list(latest.values())
    upsert = db.dialect.bulk_upsert(request_response, _KEY, _COLUMNS)
    now = upsert.time(dt.datetime.now(dt.UTC))
    params = await _in_slices(kept, lambda part: _row_params(part, upsert.times, now))
    await upsert.run(db.conn, params)
    # Session totals: new rows are added in; a row that replaced another (a replay, a reused
    # Helicone-Request-Id) has its old and new sessions recomputed from the log.
    session_ids = list(map(_session_id_of, params))
    sessions = (
        [
            (p[_ORG], p[_SESSION_ID], p[_SESSION_NAME], row, (row.organization_id, row.request_id))
            for row, p in zip(kept, params, strict=True)
            if p[_SESSION_ID] is not None
        ]
        # Most batches have no session row: known in C, with no Python step a row.
        if session_ids.count(None) < len(session_ids)
        else []
    )
    await session_summary.add_new_rows(
        db, [(org, sid, name, row) for org, sid, name, row, key in sessions if key not in replaced]
    )
    stale = {(org, sid) for (org, _), sid in replaced.items() if sid is not None}
    stale |= {(org, sid) for org, sid, _, _, key in sessions if key in replaced}
    if stale:
        await session_summary.refresh(db, stale)
    bodies = _body_params(kept, params)
    if bodies:
        await db.dialect.bulk_upsert(request_body, _KEY, _BODY_COLUMNS).run(db.conn, bodies)
