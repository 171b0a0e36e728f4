"""The log read for Helicone's public statistics routes, over one organization's own rows.

Customers, provider status, model and provider usage, and model comparison.

Each function is one grouped (or, where the route asks for quantiles, one row-level) query; the
API shapes the answers. Row-level reads are capped (``MAX_ROWS``, newest first) so that a route
over a long window stays bounded.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from helioscope.store._runner import OrgDb
from helioscope.store.cost import usd, usd_sum
from helioscope.store.tables.log import feedback
from helioscope.store.tables.log import request_response as rr

MAX_CUSTOMERS = 10_000
MAX_ROWS = 100_000
_ERROR = rr.c.status != 200
_TOKENS = func.coalesce(rr.c.prompt_tokens, 0) + func.coalesce(rr.c.completion_tokens, 0)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _window(db: OrgDb, since: dt.datetime, until: dt.datetime) -> ColumnElement[bool]:
    return and_(db.in_org(rr), rr.c.request_created_at >= since, rr.c.request_created_at <= until)


def _provider_is(provider: str | None) -> list[ColumnElement[bool]]:
    # Helicone names providers in capitals (OPENAI); a caller may not.
    return [] if provider is None else [func.upper(rr.c.provider) == provider.upper()]


async def customer_ids(db: OrgDb) -> list[str]:
    """Every user id the organization's log names (its customers), sorted."""
    stmt = (
        select(rr.c.user_id)
        .where(db.in_org(rr), rr.c.user_id.is_not(None), rr.c.user_id != "")
        .group_by(rr.c.user_id)
        .order_by(rr.c.user_id)
        .limit(MAX_CUSTOMERS)
    )
    return [str(value) for value in await db.scalars(stmt)]


async def provider_hours(
    db: OrgDb, since: dt.datetime, until: dt.datetime, provider: str | None
) -> list[dict[str, Any]]:
    """Per provider and UTC hour: requests, errors, latency sum and latency per output token.

    ``hour`` is the bucket start as ``YYYY-MM-DD HH:00:00`` (UTC).
    """
    hour = db.dialect.time_bucket(rr.c.request_created_at, "hour", 0)
    per_token = rr.c.completion_tokens > 0
    stmt = (
        select(
            rr.c.provider.label("provider"),
            hour.label("hour"),
            func.count().label("requests"),
            _count_if(_ERROR).label("errors"),
            func.coalesce(func.sum(rr.c.latency), 0).label("latency_sum"),
            _count_if(rr.c.latency.is_not(None)).label("latency_count"),
            func.coalesce(
                func.sum(case((per_token, rr.c.latency * 1.0 / rr.c.completion_tokens), else_=0.0)),
                0,
            ).label("per_token_sum"),
            _count_if(and_(per_token, rr.c.latency.is_not(None))).label("per_token_count"),
        )
        .where(_window(db, since, until), rr.c.provider.is_not(None), *_provider_is(provider))
        .group_by(rr.c.provider, hour)
        .order_by(rr.c.provider, hour)
    )
    return await db.rows(stmt)


async def model_days(
    db: OrgDb, since: dt.datetime, until: dt.datetime, provider: str | None
) -> list[dict[str, Any]]:
    """Per UTC day, provider and model: requests, tokens and cost (USD)."""
    day = db.dialect.time_bucket(rr.c.request_created_at, "day", 0)
    stmt = (
        select(
            day.label("day"),
            rr.c.provider.label("provider"),
            rr.c.model.label("model"),
            func.count().label("requests"),
            func.coalesce(func.sum(_TOKENS), 0).label("tokens"),
            usd_sum(rr.c.cost).label("cost"),
        )
        .where(_window(db, since, until), *_provider_is(provider))
        .group_by(day, rr.c.provider, rr.c.model)
        .order_by(day, rr.c.provider, rr.c.model)
    )
    rows = await db.rows(stmt)
    for row in rows:  # PostgreSQL sums integers as numeric
        row.update(
            requests=int(row["requests"]), tokens=int(row["tokens"]), cost=float(row["cost"])
        )
    return rows


async def ttft_rows(
    db: OrgDb, since: dt.datetime, until: dt.datetime, provider: str | None, models: list[str]
) -> list[tuple[int, float, str | None]]:
    """(prompt tokens, time to first token ms, model) of streamed calls, newest first, capped."""
    stmt = (
        select(rr.c.prompt_tokens, rr.c.time_to_first_token, rr.c.model)
        .where(
            _window(db, since, until),
            rr.c.time_to_first_token > 0,
            rr.c.prompt_tokens > 0,
            *_provider_is(provider),
            *_model_prefixes(models),
        )
        .order_by(rr.c.request_created_at.desc(), rr.c.request_id)
        .limit(MAX_ROWS)
    )
    return [(int(p), float(t), m) for p, t, m in await db.tuples(stmt)]


def _model_prefixes(models: list[str]) -> list[ColumnElement[bool]]:
    if not models:
        return []
    lowered = func.lower(rr.c.model)
    return [or_(*(lowered.startswith(name.lower(), autoescape=True) for name in models))]


async def call_rows(
    db: OrgDb, since: dt.datetime, until: dt.datetime, provider: str | None, models: list[str]
) -> list[dict[str, Any]]:
    """The calls of some models (exact names, any case) with what a comparison needs.

    Newest first, at most ``MAX_ROWS``: day, model, status, latency, ttft, tokens, cost (USD),
    country and the call's feedback rating (None when it has none).
    """
    day = db.dialect.time_bucket(rr.c.request_created_at, "day", 0)
    joined = rr.outerjoin(
        feedback,
        and_(
            feedback.c.organization_id == rr.c.organization_id,
            feedback.c.request_id == rr.c.request_id,
        ),
    )
    stmt = (
        select(
            day.label("day"),
            rr.c.model,
            rr.c.status,
            rr.c.latency,
            rr.c.time_to_first_token.label("ttft"),
            rr.c.prompt_tokens,
            rr.c.completion_tokens,
            usd(rr.c.cost).label("cost"),
            rr.c.country_code,
            feedback.c.rating,
        )
        .select_from(joined)
        .where(
            _window(db, since, until),
            func.lower(rr.c.model).in_([m.lower() for m in models]),
            *_provider_is(provider),
        )
        .order_by(rr.c.request_created_at.desc(), rr.c.request_id)
        .limit(MAX_ROWS)
    )
    return await db.rows(stmt)
