"""Helicone's session bodies and results, and the metrics histograms."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from helioscope.api._fields import Float, Number, Offset
from helioscope.api._request_shape import iso

MAX_TZ_MINUTES = 24 * 60


class TimeFilterMs(BaseModel):
    """A time window in epoch milliseconds."""

    startTimeUnixMs: Float
    endTimeUnixMs: Float

    @model_validator(mode="after")
    def _ordered(self) -> TimeFilterMs:
        if self.startTimeUnixMs > self.endTimeUnixMs:
            raise ValueError("startTimeUnixMs is after endTimeUnixMs")
        for value in (self.startTimeUnixMs, self.endTimeUnixMs):
            if not math.isfinite(value) or not 0 <= value < 253402300800000:
                raise ValueError(f"{value!r} is not a time in epoch milliseconds")
        return self

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """The window as UTC datetimes."""
        return (
            dt.datetime.fromtimestamp(self.startTimeUnixMs / 1000, dt.UTC),
            dt.datetime.fromtimestamp(self.endTimeUnixMs / 1000, dt.UTC),
        )


class SessionQueryParams(BaseModel):
    """Body of ``POST /v1/session/query``."""

    search: str = Field("", max_length=400)
    timeFilter: TimeFilterMs | None = None
    nameEquals: str | None = None
    timezoneDifference: float = Field(0, ge=-MAX_TZ_MINUTES, le=MAX_TZ_MINUTES)
    filter: Any = "all"
    offset: Offset = 0
    limit: int = Field(50, ge=1, le=1000)


class SessionNameQueryParams(BaseModel):
    """Body of ``POST /v1/session/name/query`` and ``/v1/session/metrics/query``."""

    nameContains: str = Field("", max_length=400)
    timezoneDifference: float = Field(0, ge=-MAX_TZ_MINUTES, le=MAX_TZ_MINUTES)
    pSize: Literal["p50", "p75", "p95", "p99", "p99.9"] | None = None
    useInterquartile: bool = False
    timeFilter: TimeFilterMs | None = None
    filter: Any = "all"


class SessionResult(BaseModel):
    """One session with its totals."""

    created_at: str
    latest_request_created_at: str
    session_id: str
    session_name: str
    total_cost: Number
    total_requests: Number
    prompt_tokens: Number
    completion_tokens: Number
    total_tokens: Number


class SessionNameResult(BaseModel):
    """A session name and how it is used."""

    name: str
    created_at: str
    last_used: str
    first_used: str
    total_cost: Number
    session_count: Number


class HistogramRow(BaseModel):
    """One histogram bucket."""

    range_start: str
    range_end: str
    value: Number


class AverageRow(BaseModel):
    """An average."""

    average: Number


class SessionMetricsAverages(BaseModel):
    """Averages of the three session metrics."""

    session_cost: list[AverageRow]
    session_duration: list[AverageRow]
    session_count: list[AverageRow]


class SessionMetrics(BaseModel):
    """Histograms of requests per session, session duration and session cost."""

    session_count: list[HistogramRow]
    session_duration: list[HistogramRow]
    session_cost: list[HistogramRow]


class SessionMetricsWithAverages(SessionMetrics):
    """Helioscope's session metrics for its UI: Helicone's histograms and their averages."""

    average: SessionMetricsAverages


class Tag(BaseModel):
    """Body of ``POST /v1/session/{sessionId}/tag``."""

    tag: str = Field(min_length=1, max_length=200)


def shifted(value: dt.datetime, tz_minutes: float) -> str:
    """A time presented as Helicone presents session times: shifted by the client's offset."""
    return iso(value + dt.timedelta(minutes=tz_minutes)) or ""


def session_result(row: dict[str, Any], tz_minutes: float) -> SessionResult:
    """Shape one session row."""
    return SessionResult(
        created_at=shifted(row["created_at"], tz_minutes),
        latest_request_created_at=shifted(row["latest_request_created_at"], tz_minutes),
        session_id=row["session_id"],
        session_name=row["session_name"] or "",
        total_cost=row["total_cost"] or 0.0,
        total_requests=row["total_requests"],
        prompt_tokens=row["prompt_tokens"] or 0,
        completion_tokens=row["completion_tokens"] or 0,
        total_tokens=row["total_tokens"] or 0,
    )


_PERCENTILES = {"p50": 50.0, "p75": 75.0, "p95": 95.0, "p99": 99.0, "p99.9": 99.9}


def _percentile(ordered: list[float], p: float) -> float:
    index = min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[index]


def histogram(
    values: list[float], p_size: str | None, interquartile: bool, buckets: int = 10
) -> list[HistogramRow]:
    """Ten equal-width buckets over the values, trimmed at a percentile if asked."""
    ordered = sorted(values)
    if not ordered:
        return []
    low, high = ordered[0], ordered[-1]
    if interquartile:
        low, high = _percentile(ordered, 25), _percentile(ordered, 75)
    elif p_size is not None:
        high = _percentile(ordered, _PERCENTILES[p_size])
    kept = [v for v in ordered if low <= v <= high]
    width = (high - low) / buckets or 1.0
    counts = [0] * buckets
    for value in kept:
        counts[min(buckets - 1, int((value - low) / width))] += 1
    return [
        HistogramRow(
            range_start=f"{low + i * width:g}", range_end=f"{low + (i + 1) * width:g}", value=c
        )
        for i, c in enumerate(counts)
    ]


def metrics(
    rows: list[dict[str, Any]], p_size: str | None, interquartile: bool
) -> SessionMetricsWithAverages:
    """The session metrics with their averages.

    Helicone's route answers the histograms only (``SessionMetrics``), Helioscope's UI route the
    averages too.
    """
    series = {
        "session_count": [float(r["count"]) for r in rows],
        "session_duration": [float(r["duration"]) for r in rows],
        "session_cost": [float(r["cost"] or 0) for r in rows],
    }

    def average(values: list[float]) -> list[AverageRow]:
        return [AverageRow(average=sum(values) / len(values) if values else 0.0)]

    return SessionMetricsWithAverages(
        **{name: histogram(values, p_size, interquartile) for name, values in series.items()},
        average=SessionMetricsAverages(**{k: average(v) for k, v in series.items()}),
    )
