"""The ``Status`` tag: error rates and latency per provider, from the caller's own log.

Helicone computes its public status page over every customer's traffic; a self-hosted server
has one organization's traffic to speak for, so these routes read the caller's organization's
log only, and need a read key (Helicone serves them without one). Figures are in whole UTC
hours: "the last 24 hours" are the current hour and the 23 before it, "the previous 24 hours"
the 24 before those, and "recent" is the current hour. A call is an error when its status is
not 200. ``timeFrame`` (``24h``, ``7d``, ``30d``; default ``24h``) sets the window of the totals,
the averages and the series (hourly for 24h, daily otherwise).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel

from helioscope.api._fields import Number
from helioscope.api._stats import bucket_start, change, ratio
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.store.log import public_stats

reads = APIRouter(prefix="/v1/public/status", tags=["Status"], responses=ERROR_RESPONSES)

TimeFrame = Literal["24h", "7d", "30d"]
_HOURS: dict[str, int] = {"24h": 24, "7d": 7 * 24, "30d": 30 * 24}
_HOUR = dt.timedelta(hours=1)


class TimeSeriesDataPoint(BaseModel):
    """One bucket of a provider's series."""

    timestamp: dt.datetime
    errorCount: Number
    requestCount: Number
    averageLatency: Number
    averageLatencyPerCompletionToken: Number


class ProviderStatus(BaseModel):
    """Helicone's ``MetricsData`` with the series (``timeSeriesData``)."""

    totalRequests: Number
    requestCountPrevious24h: Number
    requestVolumeChange: Number
    errorRate24h: Number
    errorRatePrevious24h: Number
    errorRateChange: Number
    averageLatency: Number
    averageLatencyPerToken: Number
    latencyChange: Number
    latencyPerTokenChange: Number
    recentRequestCount: Number
    recentErrorCount: Number
    timeSeriesData: list[TimeSeriesDataPoint]


class ProviderMetrics(BaseModel):
    """A provider and its figures."""

    providerName: str
    metrics: ProviderStatus


class _Sums:
    """Running sums over some hours of one provider."""

    def __init__(self) -> None:
        self.requests = self.errors = 0
        self.latency = self.per_token = 0.0
        self.latency_n = self.per_token_n = 0

    def add(self, row: dict[str, Any]) -> None:
        self.requests += int(row["requests"])
        self.errors += int(row["errors"])
        self.latency += float(row["latency_sum"])
        self.latency_n += int(row["latency_count"])
        self.per_token += float(row["per_token_sum"])
        self.per_token_n += int(row["per_token_count"])

    @property
    def avg_latency(self) -> float:
        return self.latency / self.latency_n if self.latency_n else 0.0

    @property
    def avg_per_token(self) -> float:
        return self.per_token / self.per_token_n if self.per_token_n else 0.0


def _status(rows: list[dict[str, Any]], now: dt.datetime, frame: str) -> ProviderStatus:
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    day_start, prev_start = this_hour - 23 * _HOUR, this_hour - 47 * _HOUR
    frame_start = this_hour - (_HOURS[frame] - 1) * _HOUR
    daily = frame != "24h"
    whole, last, previous, recent = _Sums(), _Sums(), _Sums(), _Sums()
    series: dict[dt.datetime, _Sums] = defaultdict(_Sums)
    for row in rows:
        hour = bucket_start(row["hour"])
        if hour >= frame_start:
            whole.add(row)
            series[hour.replace(hour=0) if daily else hour].add(row)
        if hour >= day_start:
            last.add(row)
        elif hour >= prev_start:
            previous.add(row)
        if hour == this_hour:
            recent.add(row)
    step = dt.timedelta(days=1) if daily else _HOUR
    # Daily frames show today and the N days before, whatever the hour: the frame's first hour
    # falls on the first of those days except at 23:00, when it begins the day after.
    cursor = (this_hour - _HOURS[frame] * _HOUR).replace(hour=0) if daily else frame_start
    points = []
    while cursor <= this_hour:
        sums = series.get(cursor, _Sums())
        points.append(
            TimeSeriesDataPoint(
                timestamp=cursor,
                errorCount=sums.errors,
                requestCount=sums.requests,
                averageLatency=sums.avg_latency,
                averageLatencyPerCompletionToken=sums.avg_per_token,
            )
        )
        cursor += step
    rate_now, rate_before = (
        ratio(last.errors, last.requests),
        ratio(previous.errors, previous.requests),
    )
    return ProviderStatus(
        totalRequests=whole.requests,
        requestCountPrevious24h=previous.requests,
        requestVolumeChange=change(last.requests, previous.requests),
        errorRate24h=rate_now,
        errorRatePrevious24h=rate_before,
        errorRateChange=rate_now - rate_before,
        averageLatency=whole.avg_latency,
        averageLatencyPerToken=whole.avg_per_token,
        latencyChange=change(last.avg_latency, previous.avg_latency),
        latencyPerTokenChange=change(last.avg_per_token, previous.avg_per_token),
        recentRequestCount=recent.requests,
        recentErrorCount=recent.errors,
        timeSeriesData=points,
    )


async def _by_provider(
    key: ApiKeyDep, store: StoreDep, frame: str, provider: str | None
) -> tuple[dict[str, list[dict[str, Any]]], dt.datetime]:
    now = dt.datetime.now(dt.UTC)
    since = now.replace(minute=0, second=0, microsecond=0) - (max(_HOURS[frame], 48) - 1) * _HOUR
    rows = await store.log.org(key.organization_id).read(
        public_stats.provider_hours, since, now, provider
    )
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["provider"]].append(row)
    return grouped, now


@reads.get("/provider", response_model=Result[list[ProviderMetrics]])
async def get_all_provider_status(
    key: ApiKeyDep, store: StoreDep, timeFrame: TimeFrame = "24h"
) -> Result[list[ProviderMetrics]]:
    """Every provider the organization called in the window, busiest first."""
    grouped, now = await _by_provider(key, store, timeFrame, None)
    found = [
        ProviderMetrics(providerName=name, metrics=_status(rows, now, timeFrame))
        for name, rows in grouped.items()
    ]
    found = [p for p in found if p.metrics.totalRequests or p.metrics.requestCountPrevious24h]
    found.sort(key=lambda p: (-p.metrics.totalRequests, p.providerName))
    return Result(data=found)


@reads.get("/provider/{provider}", response_model=Result[ProviderMetrics])
async def get_provider_status(
    provider: str, key: ApiKeyDep, store: StoreDep, timeFrame: TimeFrame = "24h"
) -> Result[ProviderMetrics]:
    """One provider (by name, any case); zeros when the organization has not called it."""
    grouped, now = await _by_provider(key, store, timeFrame, provider)
    rows = [row for group in grouped.values() for row in group]
    name = next(iter(grouped), provider.upper())
    return Result(data=ProviderMetrics(providerName=name, metrics=_status(rows, now, timeFrame)))
