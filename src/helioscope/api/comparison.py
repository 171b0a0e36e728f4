"""The ``Comparison`` tag: models side by side, from the caller's own log.

``POST /v1/public/compare/models`` takes Helicone's list of ``ModelsToCompare`` (a display name,
``parent``, the model names that make it up, ``names``, and their ``provider``) and answers one
``Model`` per entry, over the organization's calls of those models (exact names, any case) in the
last 30 days: latency and time-to-first-token statistics (nearest-rank quantiles, ms), error and
success rates, per-country medians, the share of positive and negative feedback, a daily series,
and list prices in USD per million prompt and completion tokens (0 when the price is unknown).
Helicone compares every customer's traffic and serves the route without a key; a self-hosted
server compares the caller's organization's, and needs a read key. At most
``public_stats.MAX_ROWS`` calls per entry are read (the newest).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from helioscope.api._fields import Number
from helioscope.api._stats import bucket_start, mean, quantile, ratio
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.errors import BadRequest
from helioscope.ingest.pricing import cost_nano_usd
from helioscope.providers import Usage, provider_named
from helioscope.store import NANO_USD
from helioscope.store.log import public_stats

reads = APIRouter(prefix="/v1/public/compare", tags=["Comparison"], responses=ERROR_RESPONSES)

WINDOW_DAYS = 30
_MILLION = 1_000_000


class ModelsToCompare(BaseModel):
    """One side of the comparison."""

    provider: str = Field(min_length=1, max_length=100)
    names: list[str] = Field(min_length=1, max_length=50)
    parent: str = Field(min_length=1, max_length=200)


class MetricStats(BaseModel):
    """Quantiles and extremes of a value (ms)."""

    p99: Number
    p95: Number
    p90: Number
    max: Number
    min: Number
    median: Number
    average: Number


class TokenMetricStats(MetricStats):
    """Latency statistics, with the median latency per 1,000 completion tokens."""

    medianPer1000Tokens: Number


class TimeSeriesMetric(BaseModel):
    """One day's value."""

    value: Number
    timestamp: str


class TimeSeries(BaseModel):
    """Daily series: error and success rates (%), median TTFT and latency (ms)."""

    errorRate: list[TimeSeriesMetric]
    successRate: list[TimeSeriesMetric]
    ttft: list[TimeSeriesMetric]
    latency: list[TimeSeriesMetric]


class RequestStatus(BaseModel):
    """Error and success rates, in percent."""

    errorRate: Number
    successRate: Number


class CountryMedian(BaseModel):
    """The median of a value for the calls from one country."""

    median: Number
    countryCode: str


class Feedback(BaseModel):
    """Shares of rated calls rated positive and negative, in percent."""

    negativePercentage: Number
    positivePercentage: Number


class Costs(BaseModel):
    """List prices in USD per million tokens."""

    completion_token: Number
    prompt_token: Number


class Model(BaseModel):
    """Helicone's ``Model``: one compared model and its figures."""

    timeSeriesData: TimeSeries
    requestStatus: RequestStatus
    geographicTtft: list[CountryMedian]
    geographicLatency: list[CountryMedian]
    feedback: Feedback
    costs: Costs
    ttft: MetricStats
    latency: TokenMetricStats
    provider: str
    model: str


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "p99": quantile(values, 99),
        "p95": quantile(values, 95),
        "p90": quantile(values, 90),
        "max": max(values, default=0.0),
        "min": min(values, default=0.0),
        "median": quantile(values, 50),
        "average": mean(values),
    }


def _price(provider: str, names: list[str], usage: Usage) -> float:
    fmt = provider_named(provider.upper())
    if fmt is None:
        return 0.0
    for name in names:
        nano = cost_nano_usd(fmt, name, usage)
        if nano is not None:
            return nano / NANO_USD
    return 0.0


def _by_country(rows: list[dict[str, Any]], field: str) -> list[CountryMedian]:
    values: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        if row["country_code"] and row[field] is not None and row[field] > 0:
            values[row["country_code"]].append(float(row[field]))
    return [CountryMedian(countryCode=c, median=quantile(v, 50)) for c, v in sorted(values.items())]


def _series(rows: list[dict[str, Any]]) -> TimeSeries:
    days: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        days[bucket_start(row["day"]).strftime("%Y-%m-%dT%H:%M:%SZ")].append(row)
    series: dict[str, list[TimeSeriesMetric]] = defaultdict(list)
    for day in sorted(days):
        calls = days[day]
        errors = sum(1 for row in calls if row["status"] != 200)
        figures = {
            "errorRate": ratio(errors, len(calls)),
            "successRate": ratio(len(calls) - errors, len(calls)),
            "ttft": quantile([float(r["ttft"]) for r in calls if r["ttft"]], 50),
            "latency": quantile(
                [float(r["latency"]) for r in calls if r["latency"] is not None], 50
            ),
        }
        for name, value in figures.items():
            series[name].append(TimeSeriesMetric(value=value, timestamp=day))
    return TimeSeries(**{name: series[name] for name in TimeSeries.model_fields})


def _model(entry: ModelsToCompare, rows: list[dict[str, Any]]) -> Model:
    latency = [float(r["latency"]) for r in rows if r["latency"] is not None]
    ttft = [float(r["ttft"]) for r in rows if r["ttft"]]
    per_1000 = [
        float(r["latency"]) * 1000 / r["completion_tokens"]
        for r in rows
        if r["latency"] is not None and r["completion_tokens"]
    ]
    errors = sum(1 for r in rows if r["status"] != 200)
    rated = [r["rating"] for r in rows if r["rating"] is not None]
    positive = sum(1 for rating in rated if rating)
    return Model(
        model=entry.parent,
        provider=entry.provider,
        latency=TokenMetricStats(**_stats(latency), medianPer1000Tokens=quantile(per_1000, 50)),
        ttft=MetricStats(**_stats(ttft)),
        requestStatus=RequestStatus(
            errorRate=ratio(errors, len(rows)), successRate=ratio(len(rows) - errors, len(rows))
        ),
        feedback=Feedback(
            positivePercentage=ratio(positive, len(rated)),
            negativePercentage=ratio(len(rated) - positive, len(rated)),
        ),
        costs=Costs(
            prompt_token=_price(entry.provider, entry.names, Usage(prompt_tokens=_MILLION)),
            completion_token=_price(entry.provider, entry.names, Usage(completion_tokens=_MILLION)),
        ),
        geographicLatency=_by_country(rows, "latency"),
        geographicTtft=_by_country(rows, "ttft"),
        timeSeriesData=_series(rows),
    )


@reads.post("/models", response_model=Result[list[Model]])
async def get_model_comparison(
    body: list[ModelsToCompare], key: ApiKeyDep, store: StoreDep
) -> Result[list[Model]]:
    """One ``Model`` per entry, in the order given."""
    if len(body) > 20:
        raise BadRequest("body: compare at most 20 models at once")
    now = dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(days=WINDOW_DAYS)
    log = store.log.org(key.organization_id)
    answer = []
    for entry in body:
        rows = await log.read(public_stats.call_rows, since, now, entry.provider, entry.names)
        answer.append(_model(entry, rows))
    return Result(data=answer)
