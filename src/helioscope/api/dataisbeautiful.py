"""The ``DataIsBeautiful`` tag: model and provider statistics, from the caller's own log.

Helicone's nine routes chart every customer's traffic; here they chart the caller's
organization's, and need a read key. The body (``DataIsBeautifulRequestBody``) narrows the rows:
``timespan`` (``7d``, ``1m`` = 30 days, ``3m`` = 90 days), ``provider`` (by name, any case) and
``models``: model families, each matching the models whose name starts with it (``gpt-4o``
matches ``gpt-4o-mini-2024-07-18``), the longest family winning; the answers then name the family
(``matched_model``), and otherwise the model itself. The three routes without a body cover all
time (``total-values``) or the last 30 days, per UTC day (the two usage series). Percentages are
of requests, or of cost for ``model/cost``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from helioscope.api._fields import Number
from helioscope.api._stats import bucket_start, day_text, quantile, ratio
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.store.log import metrics, public_stats

reads = APIRouter(
    prefix="/v1/public/dataisbeautiful", tags=["DataIsBeautiful"], responses=ERROR_RESPONSES
)

ModelName = Literal[
    "gpt-3.5",
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4",
    "gpt-4-turbo",
    "claude-3-opus",
    "claude-3-sonnet",
    "claude-3-haiku",
    "claude-2",
    "open-mixtral",
    "Llama",
    "dall-e",
    "text-moderation",
    "text-embedding",
    "anthropic/claude-3.5-sonnet",
]
_DAYS: dict[str, int] = {"7d": 7, "1m": 30, "3m": 90}
_USAGE_DAYS = 30
_BIN_TOKENS = 1000  # prompt lengths are grouped by the thousand


class DataIsBeautifulRequestBody(BaseModel):
    """Which rows a chart covers."""

    provider: Literal["OPENAI", "ANTHROPIC", "OPENROUTER", "MISTRAL", "META"] | None = None
    models: list[ModelName] | None = Field(None, max_length=50)
    timespan: Literal["7d", "1m", "3m"]


class TotalValuesForAllOfTime(BaseModel):
    """All-time totals."""

    total_cost: Number
    total_tokens: Number
    total_requests: Number


class ModelUsageOverTime(BaseModel):
    """Tokens of one model on one day."""

    tokens: Number
    date: str
    model: str


class ProviderUsageOverTime(BaseModel):
    """Tokens of one provider on one day."""

    tokens: Number
    date: str
    provider: str


class TTFTvsPromptLength(BaseModel):
    """Time to first token (ms) of the calls whose prompt length falls in one bin."""

    prompt_length: Number
    ttft_normalized_p75: Number
    ttft_normalized_p99: Number
    ttft_normalized: Number
    ttft_p75: Number
    ttft_p99: Number
    ttft: Number


class ModelBreakdown(BaseModel):
    """A model's (or family's) share."""

    percent: Number
    matched_model: str


class ProviderBreakdown(BaseModel):
    """A provider's share of requests."""

    percent: Number
    provider: str


class ModelBreakdownOverTime(ModelBreakdown):
    """A model's share of one day's requests."""

    date: str


def _family(model: str | None, families: list[str]) -> str | None:
    """The longest requested family ``model`` starts with; the model itself when none asked."""
    if not families:
        return model
    lowered = (model or "").lower()
    matches = [f for f in families if lowered.startswith(f.lower())]
    return max(matches, key=len) if matches else None


async def _days(
    key: ApiKeyDep, store: StoreDep, days: int, provider: str | None
) -> list[dict[str, Any]]:
    now = dt.datetime.now(dt.UTC)
    since = now.replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=days - 1)
    log = store.log.org(key.organization_id)
    return await log.read(public_stats.model_days, since, now, provider)


async def _matched(
    body: DataIsBeautifulRequestBody, key: ApiKeyDep, store: StoreDep
) -> list[tuple[str, dict[str, Any]]]:
    """(matched model, row) of the body's days, provider and models."""
    rows = await _days(key, store, _DAYS[body.timespan], body.provider)
    families: list[str] = list(body.models or [])
    found = []
    for row in rows:
        family = _family(row["model"], families)
        if family is not None:
            found.append((family, row))
    return found


def _shares(amounts: dict[str, float]) -> list[tuple[str, float]]:
    whole = sum(amounts.values())
    shares = [(name, ratio(amount, whole)) for name, amount in amounts.items()]
    return sorted(shares, key=lambda item: (-item[1], item[0]))


@reads.post("/total-values", response_model=Result[TotalValuesForAllOfTime])
async def get_total_values(key: ApiKeyDep, store: StoreDep) -> Result[TotalValuesForAllOfTime]:
    """All-time requests, tokens and cost (USD)."""
    totals = await store.log.org(key.organization_id).read(metrics.totals, "all", None)
    return Result(
        data=TotalValuesForAllOfTime(
            total_cost=totals["cost"],
            total_tokens=totals["prompt_tokens"] + totals["completion_tokens"],
            total_requests=totals["requests"],
        )
    )


@reads.post("/model/usage/overtime", response_model=Result[list[ModelUsageOverTime]])
async def get_model_usage_over_time(
    key: ApiKeyDep, store: StoreDep
) -> Result[list[ModelUsageOverTime]]:
    """Tokens per model per UTC day, over the last 30 days."""
    tokens: dict[tuple[str, str], float] = defaultdict(float)
    for row in await _days(key, store, _USAGE_DAYS, None):
        tokens[(day_text(bucket_start(row["day"])), row["model"] or "unknown")] += row["tokens"]
    return Result(
        data=[ModelUsageOverTime(tokens=n, date=d, model=m) for (d, m), n in sorted(tokens.items())]
    )


@reads.post("/provider/usage/overtime", response_model=Result[list[ProviderUsageOverTime]])
async def get_provider_usage_over_time(
    key: ApiKeyDep, store: StoreDep
) -> Result[list[ProviderUsageOverTime]]:
    """Tokens per provider per UTC day, over the last 30 days."""
    tokens: dict[tuple[str, str], float] = defaultdict(float)
    for row in await _days(key, store, _USAGE_DAYS, None):
        day = day_text(bucket_start(row["day"]))
        tokens[(day, row["provider"] or "unknown")] += row["tokens"]
    return Result(
        data=[
            ProviderUsageOverTime(tokens=n, date=d, provider=p)
            for (d, p), n in sorted(tokens.items())
        ]
    )


@reads.post("/total-requests", response_model=Result[int])
async def get_total_requests(
    body: DataIsBeautifulRequestBody, key: ApiKeyDep, store: StoreDep
) -> Result[int]:
    """How many calls match."""
    return Result(data=sum(int(row["requests"]) for _, row in await _matched(body, key, store)))


@reads.post("/ttft-vs-prompt-length", response_model=Result[list[TTFTvsPromptLength]])
async def get_ttft_vs_prompt_input_length(
    body: DataIsBeautifulRequestBody, key: ApiKeyDep, store: StoreDep
) -> Result[list[TTFTvsPromptLength]]:
    """Median, p75 and p99 time to first token of streamed calls, by prompt length.

    Prompt lengths are grouped by the thousand tokens (``prompt_length`` is the bin's start);
    ``ttft_normalized*`` are the same quantiles of TTFT per 1,000 prompt tokens.
    """
    now = dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(days=_DAYS[body.timespan])
    rows = await store.log.org(key.organization_id).read(
        public_stats.ttft_rows, since, now, body.provider, list(body.models or [])
    )
    bins: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for prompt_tokens, ttft, _ in rows:
        bins[prompt_tokens // _BIN_TOKENS * _BIN_TOKENS].append(
            (ttft, ttft * _BIN_TOKENS / prompt_tokens)
        )
    answer = []
    for length, pairs in sorted(bins.items()):
        raw, normalized = [p[0] for p in pairs], [p[1] for p in pairs]
        answer.append(
            TTFTvsPromptLength(
                prompt_length=length,
                ttft=quantile(raw, 50),
                ttft_p75=quantile(raw, 75),
                ttft_p99=quantile(raw, 99),
                ttft_normalized=quantile(normalized, 50),
                ttft_normalized_p75=quantile(normalized, 75),
                ttft_normalized_p99=quantile(normalized, 99),
            )
        )
    return Result(data=answer)


@reads.post("/model/percentage", response_model=Result[list[ModelBreakdown]])
async def get_model_percentage(
    body: DataIsBeautifulRequestBody, key: ApiKeyDep, store: StoreDep
) -> Result[list[ModelBreakdown]]:
    """Each model's share of the matching requests, largest first."""
    requests: dict[str, float] = defaultdict(float)
    for family, row in await _matched(body, key, store):
        requests[family or "unknown"] += row["requests"]
    return Result(data=[ModelBreakdown(percent=p, matched_model=m) for m, p in _shares(requests)])


@reads.post("/model/cost", response_model=Result[list[ModelBreakdown]])
async def get_model_cost(
    body: DataIsBeautifulRequestBody, key: ApiKeyDep, store: StoreDep
) -> Result[list[ModelBreakdown]]:
    """Each model's share of the matching calls' cost, largest first."""
    cost: dict[str, float] = defaultdict(float)
    for family, row in await _matched(body, key, store):
        cost[family or "unknown"] += float(row["cost"])
    return Result(data=[ModelBreakdown(percent=p, matched_model=m) for m, p in _shares(cost)])


@reads.post("/provider/percentage", response_model=Result[list[ProviderBreakdown]])
async def get_provider_percentage(
    body: DataIsBeautifulRequestBody, key: ApiKeyDep, store: StoreDep
) -> Result[list[ProviderBreakdown]]:
    """Each provider's share of the matching requests, largest first."""
    requests: dict[str, float] = defaultdict(float)
    for _, row in await _matched(body, key, store):
        requests[row["provider"] or "unknown"] += row["requests"]
    return Result(data=[ProviderBreakdown(percent=p, provider=n) for n, p in _shares(requests)])


@reads.post("/model/percentage/overtime", response_model=Result[list[ModelBreakdownOverTime]])
async def get_model_percentage_over_time(
    body: DataIsBeautifulRequestBody, key: ApiKeyDep, store: StoreDep
) -> Result[list[ModelBreakdownOverTime]]:
    """Each model's share of each UTC day's matching requests."""
    per_day: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for family, row in await _matched(body, key, store):
        per_day[day_text(bucket_start(row["day"]))][family or "unknown"] += row["requests"]
    return Result(
        data=[
            ModelBreakdownOverTime(date=day, percent=p, matched_model=m)
            for day in sorted(per_day)
            for m, p in _shares(per_day[day])
        ]
    )
