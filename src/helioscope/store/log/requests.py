"""Request queries: filtered pages, counts, lookups by id, and per-request updates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, func, not_, select, true, update

from helioscope.errors import BadRequest, NotFound
from helioscope.store._dialects import SqlDialect
from helioscope.store._runner import OrgDb
from helioscope.store.cost import usd
from helioscope.store.filters import compile_filter, property_value, where_or_true
from helioscope.store.filters._values import check_text
from helioscope.store.log import _session_summary as session_summary
from helioscope.store.log.scores import FEEDBACK_SCORE, put_scores
from helioscope.store.tables.log import feedback, request_body
from helioscope.store.tables.log import request_response as rr

MAX_PAGE = 1000
MAX_OFFSET = 2**63 - 1  # OFFSET is a 64-bit integer on both engines

_SORTABLE: dict[str, ColumnElement[Any]] = {
    "created_at": rr.c.request_created_at,
    "cache_created_at": rr.c.request_created_at,
    "latency": rr.c.latency,
    "time_to_first_token": rr.c.time_to_first_token,
    "total_tokens": func.coalesce(rr.c.prompt_tokens, 0) + func.coalesce(rr.c.completion_tokens, 0),
    "completion_tokens": rr.c.completion_tokens,
    "prompt_tokens": rr.c.prompt_tokens,
    "user_id": rr.c.user_id,
    "body_model": rr.c.response_model,
    "model": rr.c.model,
    "is_cached": rr.c.cache_reference_id,
    "cost": rr.c.cost,
    "cost_usd": rr.c.cost,
    "last_active": rr.c.request_created_at,
    "status": rr.c.status,
    "request_prompt": request_body.c.request_body,
    "response_text": request_body.c.response_body,
}


@dataclass(frozen=True, slots=True)
class RequestQuery:
    """What ``POST /v1/request/query`` asks for, already validated for type."""

    filter: Any = "all"
    offset: int = 0
    limit: int = 100
    sort: Mapping[str, Any] = field(default_factory=dict)
    is_cached: bool | None = None
    part_of_experiment: bool | None = None
    is_scored: bool | None = None
    include_bodies: bool = True


def _direction(value: Any, path: str) -> str:
    if value not in ("asc", "desc"):
        raise BadRequest(f'{path}: expected "asc" or "desc", got {value!r}')
    return str(value)


def _order_by(d: SqlDialect, sort: Mapping[str, Any]) -> list[ColumnElement[Any]]:
    order: list[ColumnElement[Any]] = []
    for key, value in sort.items():
        if key == "random":
            if value:
                order.append(func.random())
            continue
        if key in ("properties", "values"):
            if not isinstance(value, dict):
                raise BadRequest(f"sort.{key}: expected {{name: 'asc' | 'desc'}}")
            for name, direction in value.items():
                check_text(name, f"sort.{key}.{name}")
                keyed = (
                    property_value(d, name)
                    if key == "properties"
                    else d.json_text(rr.c.prompt_inputs, name)
                )
                path = f"sort.{key}.{name}"
                order.append(keyed.asc() if _direction(direction, path) == "asc" else keyed.desc())
            continue
        col = _SORTABLE.get(key)
        if col is None:
            raise BadRequest(f"sort.{key}: cannot sort by {key!r} (known: {', '.join(_SORTABLE)})")
        order.append(col.asc() if _direction(value, f"sort.{key}") == "asc" else col.desc())
    # A stable tie-break, so pages never overlap.
    order += [rr.c.request_created_at.desc(), rr.c.request_id.desc()]
    return order


def _same_request(table: Any) -> ColumnElement[bool]:
    return and_(
        table.c.organization_id == rr.c.organization_id, table.c.request_id == rr.c.request_id
    )


# A log row as it leaves the store: every column, the cost in USD.
_ROW = [usd(col).label("cost") if col.name == "cost" else col for col in rr.c]


def rows_with_bodies(include_bodies: bool = True) -> Select[Any]:
    """The log rows, with their feedback and (if asked) their bodies, joined in."""
    joined = rr.outerjoin(feedback, _same_request(feedback))
    columns: list[Any] = [
        *_ROW,
        feedback.c.id.label("feedback_id"),
        feedback.c.rating.label("feedback_rating"),
        feedback.c.created_at.label("feedback_created_at"),
    ]
    if include_bodies:
        joined = joined.outerjoin(request_body, _same_request(request_body))
        columns += [request_body.c.request_body, request_body.c.response_body]
    return select(*columns).select_from(joined)


def _flag(condition: ColumnElement[bool], wanted: bool | None) -> ColumnElement[bool]:
    if wanted is None:
        return true()
    return condition if wanted else not_(condition)


def _scoped(
    db: OrgDb, node: Any, is_cached: bool | None, query: RequestQuery | None = None
) -> ColumnElement[bool]:
    # The organization is ANDed in here, for every request query: callers cannot forget it.
    d = db.dialect
    condition = and_(
        db.in_org(rr),
        where_or_true(compile_filter(node, d)),
        _flag(rr.c.cache_reference_id.is_not(None), is_cached),
    )
    if query is not None:
        in_experiment = property_value(d, "Helicone-Experiment-Id") != ""
        scored = cast(rr.c.scores, String()).not_in(["{}", ""])
        condition = and_(
            condition,
            _flag(in_experiment, query.part_of_experiment),
            _flag(scored, query.is_scored),
        )
    return condition


async def query_requests(db: OrgDb, query: RequestQuery) -> list[dict[str, Any]]:
    """A page of the organization's requests matching the filter."""
    if not 0 <= query.offset <= MAX_OFFSET or not 0 < query.limit <= MAX_PAGE:
        raise BadRequest(f"limit must be 1 to {MAX_PAGE} and offset at least 0")
    # Sorting by a body needs the bodies joined, even when they are not returned.
    bodies = query.include_bodies or bool({"request_prompt", "response_text"} & query.sort.keys())
    stmt = (
        rows_with_bodies(bodies)
        .where(_scoped(db, query.filter, query.is_cached, query))
        .order_by(*_order_by(db.dialect, query.sort))
        .offset(query.offset)
        .limit(query.limit)
    )
    return await db.rows(stmt)


async def count_requests(db: OrgDb, node: Any, is_cached: bool | None = None) -> int:
    """How many of the organization's requests match the filter."""
    stmt = select(func.count()).select_from(rr).where(_scoped(db, node, is_cached))
    return int(await db.scalar(stmt))


# News counts stop here: "1000+ new" says enough, and the scan stays bounded.
NEWS_CAP = 1000


async def news(db: OrgDb, node: Any, since: dt.datetime) -> dict[str, Any]:
    """How many matching requests were created after ``since`` (up to the cap), and the latest.

    The live tail's poll: a bounded range scan of the (organization, created) index.
    """
    newer = (
        select(rr.c.request_created_at)
        .where(_scoped(db, node, None), rr.c.request_created_at > since)
        .limit(NEWS_CAP + 1)
        .subquery()
    )
    count, latest = (await db.tuples(select(func.count(), func.max(newer.c.request_created_at))))[0]
    return {"count": min(int(count), NEWS_CAP), "capped": count > NEWS_CAP, "latest": latest}


async def requests_by_ids(db: OrgDb, request_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The organization's requests with these ids (unknown ids are left out)."""
    if not request_ids:
        return []
    stmt = (
        rows_with_bodies()
        .where(db.in_org(rr), rr.c.request_id.in_(list(request_ids)))
        .order_by(rr.c.request_created_at.desc())
    )
    return await db.rows(stmt)


async def get_request(db: OrgDb, request_id: str) -> dict[str, Any] | None:
    """One request of the organization, with its feedback, or None."""
    rows = await requests_by_ids(db, [request_id])
    return rows[0] if rows else None


async def existing_ids(db: OrgDb, request_ids: Sequence[str]) -> set[str]:
    """Which of ``request_ids`` are logged requests of the organization."""
    if not request_ids:
        return set()
    stmt = select(rr.c.request_id).where(db.in_org(rr), rr.c.request_id.in_(set(request_ids)))
    return set(await db.scalars(stmt))


async def bodies(db: OrgDb, request_ids: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
    """The request and response bodies of these requests, by id (requests without any left out)."""
    if not request_ids:
        return {}
    rb = request_body
    stmt = select(rb.c.request_id, rb.c.request_body, rb.c.response_body).where(
        db.in_org(rb), rb.c.request_id.in_(set(request_ids))
    )
    return {request_id: (req, resp) for request_id, req, resp in await db.tuples(stmt)}


async def _locked_row(db: OrgDb, request_id: str) -> dict[str, Any]:
    stmt = select(rr.c.properties, rr.c.scores).where(db.in_org(rr), rr.c.request_id == request_id)
    stmt = stmt.with_for_update()  # SQLite has no row locks; its write lock serialises updates
    row = await db.row(stmt)
    if row is None:
        raise NotFound(f"request {request_id} not found")
    return row


async def set_property(db: OrgDb, request_id: str, key: str, value: str) -> None:
    """Add or replace one property of a logged request."""
    row = await _locked_row(db, request_id)
    old_session = (row["properties"] or {}).get("Helicone-Session-Id")
    properties = {**(row["properties"] or {}), key: value}
    values: dict[str, Any] = {"properties": properties, "updated_at": dt.datetime.now(dt.UTC)}
    for column, name in (
        ("session_id", "Helicone-Session-Id"),
        ("session_name", "Helicone-Session-Name"),
        ("session_path", "Helicone-Session-Path"),
    ):
        if key == name:
            values[column] = value
    if key == "Helicone-Session-Id" and "Helicone-Session-Name" not in properties:
        values["session_name"] = ""  # as the writer stores a session without a name
    await db.execute(
        update(rr).where(db.in_org(rr), rr.c.request_id == request_id).values(**values)
    )
    if key.startswith("Helicone-Session-"):
        sessions = {s for s in (old_session, properties.get("Helicone-Session-Id")) if s}
        await session_summary.refresh(db, [(db.org_id, s) for s in sessions])


async def add_scores(db: OrgDb, request_id: str, scores: Mapping[str, float]) -> None:
    """Merge scores into a logged request's scores (the caller has named boolean keys).

    The score ``helicone-score-feedback`` also records the rating (non-zero: positive).
    """
    row = await _locked_row(db, request_id)
    merged = {**(row["scores"] or {}), **scores}
    await db.execute(
        update(rr)
        .where(db.in_org(rr), rr.c.request_id == request_id)
        .values(scores=merged, updated_at=dt.datetime.now(dt.UTC))
    )
    await put_scores(db, request_id, scores)
    if FEEDBACK_SCORE in scores:
        await _put_feedback(db, request_id, bool(scores[FEEDBACK_SCORE]))


async def set_feedback(db: OrgDb, request_id: str, rating: bool) -> None:
    """Record (or replace) the rating of a logged request, and its score (1 or 0)."""
    await add_scores(db, request_id, {FEEDBACK_SCORE: 1 if rating else 0})


async def _put_feedback(db: OrgDb, request_id: str, rating: bool) -> None:
    stmt = db.dialect.upsert(feedback, ("organization_id", "request_id"))
    await db.execute(
        stmt,
        [
            {
                "organization_id": db.org_id,
                "request_id": request_id,
                "rating": rating,
                "created_at": dt.datetime.now(dt.UTC),
            }
        ],
    )
