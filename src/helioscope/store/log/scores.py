"""Scores by key (``score_value``) and the evals aggregates over them.

A request's scores live in two places written in one transaction: the ``scores`` map on the
log row (what the request API returns and filters on) and one ``score_value`` row per key
(what the aggregates read, over an index, without unpacking JSON).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select

from helioscope.store._runner import OrgDb
from helioscope.store.filters import compile_filter, where_or_true
from helioscope.store.tables.log import request_response as rr
from helioscope.store.tables.log import score_value as sv

BOOL_SUFFIX = "-hcone-bool"
# A request's rating is also this score, 1 or 0 under the bare key (Helicone's request table,
# drawer and dashboards read it there); scoring it records the rating too.
FEEDBACK_SCORE = "helicone-score-feedback"
_BUCKETS = 10


async def put_scores(db: OrgDb, request_id: str, scores: Mapping[str, float]) -> None:
    """Upsert one ``score_value`` row per key (the caller also merges the row's map)."""
    if not scores:
        return
    now = dt.datetime.now(dt.UTC)
    stmt = db.dialect.upsert(sv, ("organization_id", "request_id", "score_key"))
    await db.execute(
        stmt,
        [
            {
                "organization_id": db.org_id,
                "request_id": request_id,
                "score_key": key,
                "value": float(value),
                "created_at": now,
            }
            for key, value in scores.items()
        ],
    )


@dataclass(frozen=True, slots=True)
class EvalQuery:
    """Which scores to aggregate: a filter on the request log and a time range."""

    filter: Any
    start: dt.datetime
    end: dt.datetime
    timezone_difference: float = 0.0  # minutes behind UTC, as JavaScript's getTimezoneOffset
    offset: int = 0
    limit: int = 100


def _day(when: dt.datetime, tz_minutes: float) -> str:
    return (when - dt.timedelta(minutes=tz_minutes)).date().isoformat()


def _evals(rows: Sequence[Any], query: EvalQuery) -> list[dict[str, Any]]:
    by_key: dict[str, list[tuple[float, dt.datetime]]] = defaultdict(list)
    for key, value, when in rows:
        by_key[key].append((float(value), when))
    out = []
    for key in sorted(by_key):
        values = by_key[key]
        days: dict[str, list[float]] = defaultdict(list)
        for value, when in values:
            days[_day(when, query.timezone_difference)].append(value)
        numbers = [v for v, _ in values]
        out.append(
            {
                "name": key,
                "averageScore": sum(numbers) / len(numbers),
                "minScore": min(numbers),
                "maxScore": max(numbers),
                "count": len(numbers),
                "overTime": [{"date": d, "count": len(v)} for d, v in sorted(days.items())],
                "averageOverTime": [
                    {"date": d, "value": sum(v) / len(v)} for d, v in sorted(days.items())
                ],
            }
        )
    return out[query.offset : query.offset + query.limit]


def _distribution(key: str, values: list[float]) -> list[dict[str, float]]:
    if key.endswith(BOOL_SUFFIX):
        return [
            {"lower": b, "upper": b, "value": float(sum(1 for v in values if v == b))}
            for b in (0.0, 1.0)
        ]
    low, high = min(values), max(values)
    if low == high:
        return [{"lower": low, "upper": high, "value": float(len(values))}]
    width = (high - low) / _BUCKETS
    counts = [0] * _BUCKETS
    for v in values:
        counts[min(int((v - low) / width), _BUCKETS - 1)] += 1
    return [
        {"lower": low + i * width, "upper": low + (i + 1) * width, "value": float(n)}
        for i, n in enumerate(counts)
    ]


async def names(db: OrgDb) -> list[str]:
    """Every score key the organization has used."""
    stmt = (
        select(sv.c.score_key)
        .where(db.in_org(sv))
        .group_by(sv.c.score_key)
        .order_by(sv.c.score_key)
    )
    return await db.scalars(stmt)


async def _rows(db: OrgDb, query: EvalQuery) -> list[tuple[Any, ...]]:
    stmt = (
        select(sv.c.score_key, sv.c.value, rr.c.request_created_at)
        .select_from(
            sv.join(
                rr,
                and_(
                    rr.c.organization_id == sv.c.organization_id,
                    rr.c.request_id == sv.c.request_id,
                ),
            )
        )
        .where(
            db.in_org(sv),
            rr.c.request_created_at >= query.start,
            rr.c.request_created_at < query.end,
            where_or_true(compile_filter(query.filter, db.dialect)),
        )
    )
    return await db.tuples(stmt)


async def evals(db: OrgDb, query: EvalQuery) -> list[dict[str, Any]]:
    """Per score key: average, min, max, count, and per day count and average."""
    return _evals(await _rows(db, query), query)


async def distributions(db: OrgDb, query: EvalQuery) -> list[dict[str, Any]]:
    """Per score key, how many scores fall in each of ten equal ranges (or 0/1)."""
    by_key: dict[str, list[float]] = defaultdict(list)
    for key, value, _ in await _rows(db, query):
        by_key[key].append(float(value))
    return [
        {"name": key, "distribution": _distribution(key, values)}
        for key, values in sorted(by_key.items())
    ]


async def for_requests(db: OrgDb, request_ids: Sequence[str]) -> dict[str, dict[str, float]]:
    """The scores of these requests, by request id then key."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    if not request_ids:
        return out
    stmt = select(sv.c.request_id, sv.c.score_key, sv.c.value).where(
        db.in_org(sv), sv.c.request_id.in_(list(set(request_ids)))
    )
    for request_id, key, value in await db.tuples(stmt):
        out[request_id][key] = float(value)
    return out


async def aggregate(db: OrgDb, request_ids: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per score key over these requests: mean, min, max and count (booleans are 0/1)."""
    if not request_ids:
        return {}
    stmt = (
        select(
            sv.c.score_key,
            func.avg(sv.c.value),
            func.min(sv.c.value),
            func.max(sv.c.value),
            func.count(),
        )
        .where(db.in_org(sv), sv.c.request_id.in_(list(set(request_ids))))
        .group_by(sv.c.score_key)
        .order_by(sv.c.score_key)
    )
    return {
        key: {"mean": float(mean), "min": float(low), "max": float(high), "count": n}
        for key, mean, low, high, n in await db.tuples(stmt)
    }


async def by_key(db: OrgDb, key: str) -> list[tuple[float, dt.datetime]]:
    """Every value of one score key with its time (for an evaluator's statistics)."""
    stmt = (
        select(sv.c.value, sv.c.created_at)
        .where(db.in_org(sv), sv.c.score_key == key)
        .order_by(sv.c.created_at)
    )
    return [(float(v), t) for v, t in await db.tuples(stmt)]
