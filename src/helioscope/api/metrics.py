"""The ``Metrics`` tag: the dashboard's totals, series over time, quantiles and breakdowns.

Every route takes a filter tree (the one filter language) and a time window; series are cut in
buckets of the client's wall-clock time (``timeZoneDifference``) with empty buckets filled.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from helioscope.api._fields import Number
from helioscope.api._metrics_shape import (
    Breakdown,
    BreakdownBody,
    CountryData,
    DashboardTotals,
    MetricsFilterBody,
    MetricsOverTimeBody,
    ModelMetric,
    Quantiles,
    QuantilesBody,
    RequestCountBody,
    TokensPerRequest,
)
from helioscope.api._request_shape import iso
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.store import Store
from helioscope.store.log import metrics

router = APIRouter(prefix="/v1/metrics", tags=["Metrics"], responses=ERROR_RESPONSES)


class CountOverTime(BaseModel):
    """A count in one bucket (requests, users, threats, errors)."""

    time: str
    count: Number
    status: int | None = None


class CostOverTime(BaseModel):
    """Cost (USD) in one bucket."""

    time: str
    cost: Number


class TokensOverTime(BaseModel):
    """Tokens in one bucket."""

    time: str
    prompt_tokens: Number
    completion_tokens: Number


class DetailedTokensOverTime(TokensOverTime):
    """Tokens in one bucket, with reasoning and cache tokens."""

    reasoning_tokens: Number
    prompt_cache_read_tokens: Number
    prompt_cache_write_tokens: Number


class ModelUsageOverTime(BaseModel):
    """Requests and tokens of one model in one bucket."""

    time: str
    model: str
    request_count: Number
    total_tokens: Number


class LatencyOverTime(BaseModel):
    """Average latency (ms) in one bucket."""

    time: str
    duration: Number


class TimeToFirstTokenOverTime(BaseModel):
    """Average time to first token (ms) in one bucket."""

    time: str
    ttft: Number


def _and(left: Any, right: Any) -> Any:
    return {"left": left, "operator": "and", "right": right}


async def _totals(body: MetricsFilterBody, key: ApiKeyDep, store: Store) -> dict[str, Any]:
    return await store.log.org(key.organization_id).read(
        metrics.totals, body.filter, body.timeFilter.window()
    )


async def _series(
    body: MetricsOverTimeBody,
    key: ApiKeyDep,
    store: Store,
    measures: dict[str, str],
    extra_filter: Any = None,
    group_by: str | None = None,
) -> list[dict[str, Any]]:
    """Rows ``{time, <output name>: value}`` for measures given as ``{output: measure}``."""
    node = body.filter if extra_filter is None else _and(body.filter, extra_filter)
    rows = await store.log.org(key.organization_id).read(
        metrics.over_time,
        node,
        body.timeFilter.window(),
        body.buckets(),
        list(measures.values()),
        group_by,
    )
    out = []
    for row in rows:
        item: dict[str, Any] = {"time": iso(row["time"])}
        item.update({name: row[measure] for name, measure in measures.items()})
        if group_by is not None:
            item[group_by] = row[group_by]
        out.append(item)
    return out


def _average(total: int, count: int) -> float:
    return total / count if count else 0.0


@router.post("/totals", response_model=Result[DashboardTotals])
async def get_totals(body: MetricsFilterBody, key: ApiKeyDep, store: StoreDep) -> Result[Any]:
    """Every dashboard total in one call."""
    t = await _totals(body, key, store)
    n = t["requests"]
    return Result(
        data=DashboardTotals(
            total_requests=n,
            total_cost=t["cost"],
            average_latency=_average(t["latency_sum"], n),
            average_time_to_first_token=_average(t["ttft_sum"], t["ttft_count"]),
            average_tokens_per_request=_tokens_per_request(t),
            total_threats=t["threats"],
            active_users=t["users"],
            total_errors=t["errors"],
        )
    )


def _tokens_per_request(t: dict[str, Any]) -> TokensPerRequest:
    n = t["requests"]
    return TokensPerRequest(
        average_prompt_tokens_per_response=_average(t["prompt_tokens"], n),
        average_completion_tokens_per_response=_average(t["completion_tokens"], n),
        average_total_tokens_per_response=_average(t["prompt_tokens"] + t["completion_tokens"], n),
    )


@router.post("/totalRequests", response_model=Result[int])
async def get_total_requests(
    body: MetricsFilterBody, key: ApiKeyDep, store: StoreDep
) -> Result[Any]:
    """How many requests."""
    return Result(data=(await _totals(body, key, store))["requests"])


class NumberResult(Result[Number]):
    """``{"data": <number>, "error": null}`` (a named schema for the single-number metrics)."""


@router.post("/totalCost", response_model=NumberResult)
async def get_total_cost(body: MetricsFilterBody, key: ApiKeyDep, store: StoreDep) -> Result[Any]:
    """Total cost in USD."""
    return Result(data=(await _totals(body, key, store))["cost"])


@router.post("/averageLatency", response_model=NumberResult)
async def get_average_latency(
    body: MetricsFilterBody, key: ApiKeyDep, store: StoreDep
) -> Result[Any]:
    """Average latency in ms (0 without requests)."""
    t = await _totals(body, key, store)
    return Result(data=_average(t["latency_sum"], t["requests"]))


@router.post("/averageTimeToFirstToken", response_model=NumberResult)
async def get_average_time_to_first_token(
    body: MetricsFilterBody, key: ApiKeyDep, store: StoreDep
) -> Result[Any]:
    """Average time to first token in ms, over the requests that have one."""
    t = await _totals(body, key, store)
    return Result(data=_average(t["ttft_sum"], t["ttft_count"]))


@router.post("/averageTokensPerRequest", response_model=Result[TokensPerRequest])
async def get_average_tokens_per_request(
    body: MetricsFilterBody, key: ApiKeyDep, store: StoreDep
) -> Result[Any]:
    """Average prompt, completion and total tokens per request."""
    return Result(data=_tokens_per_request(await _totals(body, key, store)))


@router.post("/totalThreats", response_model=Result[int])
async def get_total_threats(
    body: MetricsFilterBody, key: ApiKeyDep, store: StoreDep
) -> Result[Any]:
    """How many requests were flagged as threats."""
    return Result(data=(await _totals(body, key, store))["threats"])


@router.post("/activeUsers", response_model=Result[int])
async def get_active_users(body: MetricsFilterBody, key: ApiKeyDep, store: StoreDep) -> Result[Any]:
    """How many distinct users."""
    return Result(data=(await _totals(body, key, store))["users"])


@router.post("/requestOverTime", response_model=Result[list[CountOverTime]])
async def get_requests_over_time(
    body: MetricsOverTimeBody, key: ApiKeyDep, store: StoreDep
) -> Result[Any]:
    """Requests per bucket."""
    return Result(data=await _series(body, key, store, {"count": "count"}))


@router.post("/requestStatusOverTime", response_model=Result[list[CountOverTime]])
async def get_request_status_over_time(
    body: MetricsOverTimeBody, key: ApiKeyDep, store: StoreDep
) -> Result[Any]:
    """Requests per bucket and status (an empty bucket has one row with status null)."""
    return Result(data=await _series(body, key, store, {"count": "count"}, group_by="status"))


@router.post("/costOverTime", response_model=Result[list[CostOverTime]])
async def get_cost_over_time(
    body: MetricsOverTimeBody, key: ApiKeyDep, store: StoreDep
) -> Result[Any]:
    """Cost (USD) per bucket."""
    return Result(data=await _series(body, key, store, {"cost": "cost"}))


@router.post("/tokensOverTime", response_model=Result[list[TokensOverTime]])
async def get_tokens_over_time(
    body: MetricsOverTimeBody, key: ApiKeyDep, store: StoreDep
) -> Result[Any]:
    """Prompt and completion tokens per bucket."""
    names = {"prompt_tokens": "prompt_tokens", "completion_tokens": "completion_tokens"}
    return Result(data=await _series(body, key, store, names))


@router.post("/detailedTokensOverTime", response_model=Result[list[DetailedTokensOverTime]])
async def get_detailed_tokens_over_time(
    body: MetricsOverTimeBody, key: ApiKeyDep, store: StoreDep
) -> Result[Any]:
    """Prompt, completion, reasoning and cache tokens per bucket."""
    names = (
        "prompt_tokens",
        "completion_tokens",
        "reasoning_tokens",
        "prompt_cache_read_tokens",
        "prompt_cache_write_tokens",
    )
    return Result(data=await _series(body, key, store, {n: n for n in names}))


@router.post("/modelUsageOverTime", response_model=Result[list[ModelUsageOverTime]])
async def get_model_usage_over_time(
    body: MetricsOverTimeBody, key: ApiKeyDep, store: StoreDep
) -> Result[Any]:
    """Requests and tokens per model per bucket (buckets without requests are left out)."""
    rows = await store.log.org(key.organization_id).read(
        metrics.over_time,
        body.filter,
        body.timeFilter.window(),
        body.buckets(),
        ["count", "total_tokens"],
        "model",
        fill=False,
    )
    return Result(
        data=[
            ModelUsageOverTime(
                time=iso(r["time"]) or "",
                model=r["model"] or "unknown",
                request_count=r["count"],
                total_tokens=r["total_tokens"],
            )
            for r in rows
        ]
    )


@router.post("/latencyOverTime", response_model=Result[list[LatencyOverTime]])
async def get_latency_over_time(
    body: MetricsOverTimeBody, key: ApiKeyDep, store: StoreDep
) -> Result[Any]:
    """Average latency per bucket, leaving out batch models (as Helicone does)."""
    batch = {"request_response_rmt": {"model": {"not-contains": "-batch"}}}
    return Result(data=await _series(body, key, store, {"duration": "latency"}, batch))


@router.post("/timeToFirstToken", response_model=Result[list[TimeToFirstTokenOverTime]])
async def get_time_to_first_token_over_time(
    body: MetricsOverTimeBody, key: ApiKeyDep, store: StoreDep
) -> Result[Any]:
    """Average time to first token per bucket."""
    return Result(data=await _series(body, key, store, {"ttft": "ttft"}))


@router.post("/usersOverTime", response_model=Result[list[CountOverTime]])
async def get_users_over_time(
    body: MetricsOverTimeBody, key: ApiKeyDep, store: StoreDep
) -> Result[Any]:
    """Distinct users per bucket."""
    return Result(data=await _series(body, key, store, {"count": "users"}))


@router.post("/threatsOverTime", response_model=Result[list[CountOverTime]])
async def get_threats_over_time(
    body: MetricsOverTimeBody, key: ApiKeyDep, store: StoreDep
) -> Result[Any]:
    """Threats per bucket."""
    return Result(data=await _series(body, key, store, {"count": "threats"}))


@router.post("/errorOverTime", response_model=Result[list[CountOverTime]])
async def get_errors_over_time(
    body: MetricsOverTimeBody, key: ApiKeyDep, store: StoreDep
) -> Result[Any]:
    """Requests with a status other than 200, per bucket."""
    return Result(data=await _series(body, key, store, {"count": "errors"}))


@router.post("/requestCount", response_model=Result[int])
async def get_request_count(body: RequestCountBody, key: ApiKeyDep, store: StoreDep) -> Result[Any]:
    """How many requests match the filter (all time); ``isCached`` counts cache-enabled ones."""
    t = await store.log.org(key.organization_id).read(metrics.totals, body.filter, None)
    return Result(data=t["cache_enabled"] if body.isCached else t["requests"])


@router.post("/models", response_model=Result[list[ModelMetric]])
async def get_model_metrics(body: BreakdownBody, key: ApiKeyDep, store: StoreDep) -> Result[Any]:
    """Requests, tokens and cost per model, busiest first."""
    rows = await _breakdown(body, key, store, "model")
    return Result(
        data=[
            ModelMetric(
                model=r["key"],
                total_requests=r["total_requests"],
                total_completion_tokens=r["completion_tokens"],
                total_prompt_token=r["prompt_tokens"],
                total_tokens=r["prompt_tokens"] + r["completion_tokens"],
                cost=r["cost"],
            )
            for r in rows
        ]
    )


@router.post("/country", response_model=Result[list[CountryData]])
async def get_country_metrics(body: BreakdownBody, key: ApiKeyDep, store: StoreDep) -> Result[Any]:
    """Requests per country, busiest first."""
    rows = await _breakdown(body, key, store, "country")
    return Result(
        data=[CountryData(country=r["key"], total_requests=r["total_requests"]) for r in rows]
    )


async def _breakdown(
    body: BreakdownBody, key: ApiKeyDep, store: Store, by: str
) -> list[dict[str, Any]]:
    return await store.log.org(key.organization_id).read(
        metrics.breakdown, body.filter, body.timeFilter.window(), by, body.offset, body.limit
    )


def _breakdown_rows(rows: list[dict[str, Any]]) -> list[Breakdown]:
    return [
        Breakdown(
            key=str(r["key"]),
            total_requests=r["total_requests"],
            total_prompt_tokens=r["prompt_tokens"],
            total_completion_tokens=r["completion_tokens"],
            total_tokens=r["prompt_tokens"] + r["completion_tokens"],
            cost=r["cost"],
            errors=r["errors"],
        )
        for r in rows
    ]


@router.post("/providers", response_model=Result[list[Breakdown]])
async def get_provider_metrics(body: BreakdownBody, key: ApiKeyDep, store: StoreDep) -> Result[Any]:
    """Requests, tokens, cost and errors per provider (Helioscope's addition)."""
    return Result(data=_breakdown_rows(await _breakdown(body, key, store, "provider")))


@router.post("/status", response_model=Result[list[Breakdown]])
async def get_status_metrics(body: BreakdownBody, key: ApiKeyDep, store: StoreDep) -> Result[Any]:
    """Requests, tokens and cost per response status (Helioscope's addition)."""
    return Result(data=_breakdown_rows(await _breakdown(body, key, store, "status")))


@router.post("/quantiles", response_model=Result[list[Quantiles]])
async def get_quantiles(body: QuantilesBody, key: ApiKeyDep, store: StoreDep) -> Result[Any]:
    """p75, p90, p95 and p99 of a value per bucket.

    The value is latency, time_to_first_token, prompt_tokens, completion_tokens, total_tokens
    or cost.
    """
    rows = await store.log.org(key.organization_id).read(
        metrics.quantiles, body.filter, body.timeFilter.window(), body.buckets(), body.metric
    )
    return Result(data=[Quantiles(**{**r, "time": iso(r["time"]) or ""}) for r in rows])
