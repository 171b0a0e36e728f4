"""Bodies and results of the metrics, dashboard and property routes (Helicone's shapes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field, model_validator

from helioscope.api._fields import Number, Offset
from helioscope.store import MAX_TZ_MINUTES, Buckets, TimeWindow

MAX_BREAKDOWN = 10_000


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class TimeFilter(BaseModel):
    """``{start, end}``: ISO 8601 times (a time without an offset is UTC)."""

    start: dt.datetime
    end: dt.datetime

    @model_validator(mode="after")
    def _ordered(self) -> TimeFilter:
        if _utc(self.start) > _utc(self.end):
            raise ValueError("start is after end")
        return self

    def window(self) -> TimeWindow:
        """The window in UTC."""
        return TimeWindow(_utc(self.start), _utc(self.end))


class MetricsFilterBody(BaseModel):
    """Body of the totals routes: a filter tree and a time window."""

    filter: Any = "all"
    timeFilter: TimeFilter


class MetricsOverTimeBody(MetricsFilterBody):
    """Body of the over-time routes: adds the bucket unit and the client's offset."""

    dbIncrement: str = "hour"
    timeZoneDifference: float = Field(0, ge=-MAX_TZ_MINUTES, le=MAX_TZ_MINUTES)

    def buckets(self) -> Buckets:
        """The validated buckets (a bad unit is a 400 naming ``dbIncrement``)."""
        return Buckets.parse(self.dbIncrement, self.timeZoneDifference)


class QuantilesBody(MetricsOverTimeBody):
    """Body of ``/v1/metrics/quantiles``."""

    metric: str


class RequestCountBody(BaseModel):
    """Body of ``/v1/metrics/requestCount``."""

    filter: Any = "all"
    isCached: bool = False


class BreakdownBody(MetricsFilterBody):
    """Body of the breakdown routes (models, countries, providers, statuses)."""

    offset: Offset = 0
    limit: int = Field(100, ge=1, le=MAX_BREAKDOWN)


class DataOverTimeRequest(BaseModel):
    """Helicone's ``DataOverTimeRequest`` (dashboard and property series)."""

    userFilter: Any = "all"
    timeFilter: TimeFilter
    dbIncrement: str = "day"
    timeZoneDifference: float = Field(0, ge=-MAX_TZ_MINUTES, le=MAX_TZ_MINUTES)

    def buckets(self) -> Buckets:
        """The validated buckets."""
        return Buckets.parse(self.dbIncrement, self.timeZoneDifference)


class TokensPerRequest(BaseModel):
    """Average tokens per request."""

    average_prompt_tokens_per_response: Number
    average_completion_tokens_per_response: Number
    average_total_tokens_per_response: Number


class DashboardTotals(BaseModel):
    """Every dashboard total at once (Helioscope's addition: one query instead of eight)."""

    total_requests: int
    total_cost: Number
    average_latency: Number
    average_time_to_first_token: Number
    average_tokens_per_request: TokensPerRequest
    total_threats: int
    active_users: int
    total_errors: int


class ModelMetric(BaseModel):
    """Totals of one model."""

    model: str
    total_requests: int
    total_completion_tokens: int
    total_prompt_token: int
    total_tokens: int
    cost: Number


class CountryData(BaseModel):
    """Requests from one country."""

    country: str
    total_requests: int


class Breakdown(BaseModel):
    """Totals of one provider or status (Helioscope's addition)."""

    key: str
    total_requests: int
    total_prompt_tokens: int
    total_completion_tokens: int
    total_tokens: int
    cost: Number
    errors: int


class Quantiles(BaseModel):
    """Quantiles of one bucket."""

    time: str
    p75: Number
    p90: Number
    p95: Number
    p99: Number


class ScoreOverTime(BaseModel):
    """Average of one score in one bucket."""

    score_key: str
    score_sum: Number
    created_at_trunc: str
