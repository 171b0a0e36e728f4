"""Edits of logged requests on ClickHouse: properties, scores, feedback, session tags.

ClickHouse does not update rows in place (cheaply); Helicone's log doesn't either. An edit
reads the row, changes it, and inserts it again with a newer ``updated_at``: the
ReplacingMergeTree keeps that version, and reads (FINAL) see only it. Two edits of one row at
the same instant may lose one of them (no row locks); edits are rare, human-paced calls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from helioscope.errors import NotFound
from helioscope.store.clickhouse import _deltas, _hourly
from helioscope.store.clickhouse import _properties as request_properties
from helioscope.store.clickhouse import _session_properties as session_properties
from helioscope.store.clickhouse import _sessions as sessions
from helioscope.store.clickhouse._client import ClickHouse
from helioscope.store.clickhouse._insert import COLUMN_NAMES
from helioscope.store.clickhouse._properties import Logged, ticks
from helioscope.store.filters._values import check_text
from helioscope.store.log import properties, requests
from helioscope.store.log import sessions as log_sessions
from helioscope.store.log.scores import FEEDBACK_SCORE

_SELECT_ROW = (
    f"SELECT {', '.join(COLUMN_NAMES)} FROM request_response FINAL "
    "WHERE organization_id = {org:String} AND request_id = {id:String}"
)


async def _row(clickhouse: ClickHouse, org_id: str, request_id: str) -> dict[str, Any]:
    found = await clickhouse.query(_SELECT_ROW, {"org": org_id, "id": request_id})
    if not found.rows:
        raise NotFound(f"request {request_id} not found")
    return dict(zip(found.columns, found.rows[0], strict=True))


async def _put_row(clickhouse: ClickHouse, row: dict[str, Any]) -> None:
    row["updated_at"] = dt.datetime.now(dt.UTC)
    await clickhouse.insert("request_response", COLUMN_NAMES, [[row[c]] for c in COLUMN_NAMES])


async def set_property(
    clickhouse: ClickHouse, org_id: str, request_id: str, key: str, value: str
) -> None:
    """Add or replace one property of a logged request (session columns follow)."""
    row = await _row(clickhouse, org_id, request_id)
    old_session = row["session_id"]
    old_properties = row["properties"]
    properties = {**old_properties, key: value}
    row["properties"] = properties
    row["session_id"] = properties.get("Helicone-Session-Id")
    name = properties.get("Helicone-Session-Name")
    row["session_name"] = "" if name is None and row["session_id"] else name
    row["session_path"] = properties.get("Helicone-Session-Path")
    await _put_row(clickhouse, row)
    # The property table follows with the row's new version (keys are only ever added here).
    logged = Logged(org_id, request_id, row["request_created_at"], properties, row["cost"])
    await request_properties.write(clickhouse, [logged], row["updated_at"])
    # The per-hour rollups: the summed columns are unchanged (their deltas net to zero), the
    # property's old value leaves property_hour and the new one enters it.
    units = [
        [ticks(row[name]) if name == "request_created_at" else row[name]]
        for name in _hourly.UNIT_NAMES
    ]
    deltas = _deltas.delta_rows(units, units, [properties], [old_properties])
    try:
        await _deltas.add_deltas(clickhouse, deltas)
    except BaseException:
        # The row is in the log with its new properties, the rollup without them: the hours
        # of rows written since are recomputed (as the writer does after a failed batch).
        await _hourly.heal(clickhouse, row["updated_at"])
        raise
    moved = [(org_id, old_session), (org_id, row["session_id"])]
    if key.startswith("Helicone-Session-"):
        await sessions.refresh(clickhouse, moved)
    # Any property moves the row's totals from one value's to another's.
    await session_properties.refresh(clickhouse, moved)


async def add_scores(
    clickhouse: ClickHouse, org_id: str, request_id: str, scores: Mapping[str, float]
) -> None:
    """Merge scores into a request's map, and one ``score_value`` row per key.

    The score ``helicone-score-feedback`` also records the rating (non-zero: positive).
    """
    row = await _row(clickhouse, org_id, request_id)
    row["scores"] = {**row["scores"], **{k: float(v) for k, v in scores.items()}}
    await _put_row(clickhouse, row)
    now = dt.datetime.now(dt.UTC)
    keys = list(scores)
    await clickhouse.insert(
        "score_value",
        ("organization_id", "request_id", "score_key", "value", "created_at"),
        [
            [org_id] * len(keys),
            [request_id] * len(keys),
            keys,
            [float(scores[k]) for k in keys],
            [now] * len(keys),
        ],
    )
    if FEEDBACK_SCORE in scores:
        await _put_feedback(clickhouse, org_id, request_id, bool(scores[FEEDBACK_SCORE]))


async def set_feedback(clickhouse: ClickHouse, org_id: str, request_id: str, rating: bool) -> None:
    """Record (or replace) a request's rating, and its score (1 or 0)."""
    await add_scores(clickhouse, org_id, request_id, {FEEDBACK_SCORE: 1 if rating else 0})


async def _put_feedback(clickhouse: ClickHouse, org_id: str, request_id: str, rating: bool) -> None:
    now = dt.datetime.now(dt.UTC)
    # An id that grows with time, as SQL's autoincrement does (ClickHouse has none).
    feedback_id = int(now.timestamp() * 1_000_000)
    await clickhouse.insert(
        "feedback",
        ("organization_id", "request_id", "id", "rating", "created_at"),
        [[org_id], [request_id], [feedback_id], [rating], [now]],
    )


async def set_session_feedback(
    clickhouse: ClickHouse, org_id: str, session_id: str, rating: bool
) -> None:
    """Rate a session: the property ``Helicone-Session-Feedback`` of its earliest request."""
    found = await clickhouse.query(
        "SELECT request_id FROM request_response FINAL WHERE organization_id = {org:String} "
        "AND session_id = {sid:String} ORDER BY request_created_at, request_id LIMIT 1",
        {"org": org_id, "sid": session_id},
    )
    if not found.rows:
        raise NotFound(f"session {session_id} not found")
    first = str(found.rows[0][0])
    await set_property(
        clickhouse, org_id, first, "Helicone-Session-Feedback", "1" if rating else "0"
    )


async def set_session_tag(clickhouse: ClickHouse, org_id: str, session_id: str, tag: str) -> None:
    """Tag a session (it must have a request)."""
    found = await clickhouse.query(
        "SELECT 1 FROM request_response FINAL WHERE organization_id = {org:String} "
        "AND session_id = {sid:String} LIMIT 1",
        {"org": org_id, "sid": session_id},
    )
    if not found.rows:
        raise NotFound(f"session {session_id} not found")
    await clickhouse.insert(
        "session_tag",
        ("organization_id", "session_id", "tag", "created_at"),
        [[org_id], [session_id], [tag], [dt.datetime.now(dt.UTC)]],
    )


async def set_hidden(clickhouse: ClickHouse, org_id: str, key: str, is_hidden: bool) -> None:
    """Hide a property key, or restore it (a tombstone the table's FINAL leaves out)."""
    check_text(key, "key")
    await clickhouse.insert(
        "hidden_property_key",
        ("organization_id", "key", "created_at", "is_deleted"),
        [[org_id], [key], [dt.datetime.now(dt.UTC)], [0 if is_hidden else 1]],
    )


# The ClickHouse form of each log function that changes rows: ``store.log.org(org).write(fn,
# …)`` runs ``EDITS[fn](clickhouse, org_id, …)`` with the same arguments.
EDITS: dict[Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]] = {
    requests.set_property: set_property,
    requests.add_scores: add_scores,
    requests.set_feedback: set_feedback,
    log_sessions.set_session_feedback: set_session_feedback,
    log_sessions.set_session_tag: set_session_tag,
    properties.set_hidden: set_hidden,
}
