"""The ``User`` tag: per-user metrics with HAVING filters on the aggregates, and histograms."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from helioscope.api._fields import Number, Offset
from helioscope.api._session_shape import HistogramRow, histogram, shifted
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.store import MAX_TZ_MINUTES, MAX_USERS_PAGE, TimeWindow, UserQuery
from helioscope.store.log import users

reads = APIRouter(prefix="/v1/user", tags=["User"], responses=ERROR_RESPONSES)

_MAX_SECONDS = 253402300799  # 9999-12-31


class TimeFilterSeconds(BaseModel):
    """A window in epoch seconds."""

    startTimeUnixSeconds: float = Field(ge=0, le=_MAX_SECONDS)
    endTimeUnixSeconds: float = Field(ge=0, le=_MAX_SECONDS)

    @model_validator(mode="after")
    def _ordered(self) -> TimeFilterSeconds:
        if self.startTimeUnixSeconds > self.endTimeUnixSeconds:
            raise ValueError("startTimeUnixSeconds is after endTimeUnixSeconds")
        return self

    def window(self) -> TimeWindow:
        """The window as UTC datetimes."""
        return TimeWindow(
            dt.datetime.fromtimestamp(self.startTimeUnixSeconds, dt.UTC),
            dt.datetime.fromtimestamp(self.endTimeUnixSeconds, dt.UTC),
        )


class UserMetricsQueryParams(BaseModel):
    """Body of ``POST /v1/user/metrics/query``."""

    filter: Any = "all"
    offset: Offset = 0
    limit: int = Field(100, ge=1, le=MAX_USERS_PAGE)
    timeFilter: TimeFilterSeconds | None = None
    timeZoneDifferenceMinutes: float = Field(0, ge=-MAX_TZ_MINUTES, le=MAX_TZ_MINUTES)
    sort: dict[str, Literal["asc", "desc"]] = Field(default_factory=dict)


class UserMetricsResult(BaseModel):
    """One user's metrics (Helicone's ``UserMetricsResult``)."""

    id: str
    user_id: str
    active_for: Number
    first_active: str
    last_active: str
    total_requests: Number
    average_requests_per_day_active: Number
    average_tokens_per_request: Number
    total_completion_tokens: Number
    total_prompt_tokens: Number
    cost: Number


class UserMetrics(BaseModel):
    """A page of users, how many match, and whether the organization has any."""

    users: list[UserMetricsResult]
    count: int
    hasUsers: bool


class UserQueryParams(BaseModel):
    """Body of ``POST /v1/user/query``."""

    userIds: list[str] | None = Field(None, max_length=1000)
    timeFilter: TimeFilterSeconds | None = None


class UserTotals(BaseModel):
    """Requests, tokens and cost of one user."""

    count: int
    prompt_tokens: int
    completion_tokens: int
    user_id: str
    cost_usd: Number


class UserOverviewParams(BaseModel):
    """Body of ``POST /v1/user/metrics-overview/query``."""

    filter: Any = "all"
    pSize: Literal["p50", "p75", "p95", "p99", "p99.9"] | None = None
    useInterquartile: bool = False


class UserOverview(BaseModel):
    """Histograms of requests per user and cost per user."""

    request_count: list[HistogramRow]
    user_cost: list[HistogramRow]


def _user(row: dict[str, Any], tz: float) -> UserMetricsResult:
    return UserMetricsResult(
        id=row["user_id"],
        user_id=row["user_id"],
        active_for=row["active_for"],
        first_active=shifted(row["first_active"], tz),
        last_active=shifted(row["last_active"], tz),
        total_requests=row["total_requests"],
        average_requests_per_day_active=float(row["average_requests_per_day_active"] or 0),
        average_tokens_per_request=float(row["average_tokens_per_request"] or 0),
        total_completion_tokens=row["total_completion_tokens"],
        total_prompt_tokens=row["total_prompt_tokens"],
        cost=row["cost"],
    )


@reads.post("/metrics/query", response_model=Result[UserMetrics])
async def get_user_metrics(
    params: UserMetricsQueryParams, key: ApiKeyDep, store: StoreDep
) -> Result[UserMetrics]:
    """Users with their metrics, filtered, sorted and paged.

    ``users_view`` leaves compare the per-user aggregates (HAVING); other leaves filter rows.
    """
    window = params.timeFilter.window() if params.timeFilter else None
    query = UserQuery(
        filter=params.filter,
        offset=params.offset,
        limit=params.limit,
        start=window.start if window else None,
        end=window.end if window else None,
        sort=params.sort,
    )
    rows, count = await store.log.org(key.organization_id).read(users.user_metrics, query)
    tz = params.timeZoneDifferenceMinutes
    return Result(
        data=UserMetrics(
            users=[_user(row, tz) for row in rows],
            count=count,
            hasUsers=count > 0 or await store.log.org(key.organization_id).read(users.has_users),
        )
    )


@reads.post("/query", response_model=Result[list[UserTotals]])
async def get_users(
    params: UserQueryParams, key: ApiKeyDep, store: StoreDep
) -> Result[list[UserTotals]]:
    """Requests, tokens and cost per user (at most 100), optionally for some users only."""
    window = (
        params.timeFilter.window()
        if params.timeFilter
        else TimeWindow(dt.datetime.fromtimestamp(0, dt.UTC), dt.datetime.now(dt.UTC))
    )
    rows = await store.log.org(key.organization_id).read(users.user_totals, params.userIds, window)
    return Result(
        data=[
            UserTotals(**{k: v for k, v in row.items() if k != "cost"}, cost_usd=row["cost"])
            for row in rows
        ]
    )


@reads.post("/metrics-overview/query", response_model=Result[UserOverview])
async def get_user_metrics_overview(
    params: UserOverviewParams, key: ApiKeyDep, store: StoreDep
) -> Result[UserOverview]:
    """Histograms of requests per user and cost (USD) per user."""
    rows = await store.log.org(key.organization_id).read(users.per_user_values, params.filter)
    p, iq = params.pSize, params.useInterquartile
    return Result(
        data=UserOverview(
            request_count=histogram([float(r["requests"]) for r in rows], p, iq),
            user_cost=histogram([r["cost"] for r in rows], p, iq),
        )
    )
