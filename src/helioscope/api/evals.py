"""The ``Evals`` tag: score names, averages and counts over time, and distributions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from helioscope.api._fields import Float, Number, Offset
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.store import MAX_PAGE, EvalQuery
from helioscope.store.log import requests, scores

reads = APIRouter(prefix="/v1/evals", tags=["Evals"], responses=ERROR_RESPONSES)
writes = APIRouter(prefix="/v1/evals", tags=["Evals"], responses=ERROR_RESPONSES)


class TimeFilter(BaseModel):
    """The time range (ISO 8601) of the requests whose scores count."""

    start: dt.datetime
    end: dt.datetime


class EvalQueryParams(BaseModel):
    """Body of the evals queries: a request filter, a time range, paging."""

    filter: Any
    timeFilter: TimeFilter
    offset: Offset = 0
    limit: int = Field(100, ge=1, le=MAX_PAGE)
    timeZoneDifference: float = Field(0, ge=-24 * 60, le=24 * 60)

    def to_query(self) -> EvalQuery:
        """The store's query (naive times are UTC)."""
        start, end = (
            t if t.tzinfo else t.replace(tzinfo=dt.UTC)
            for t in (self.timeFilter.start, self.timeFilter.end)
        )
        return EvalQuery(
            filter=self.filter,
            start=start,
            end=end,
            timezone_difference=self.timeZoneDifference,
            offset=self.offset,
            limit=self.limit,
        )


class OverTime(BaseModel):
    """How many scores a day."""

    date: str
    count: int


class AverageOverTime(BaseModel):
    """The average score of a day."""

    date: str
    value: Number


class Eval(BaseModel):
    """One score name's aggregates."""

    name: str
    averageScore: Number
    minScore: Number
    maxScore: Number
    count: int
    overTime: list[OverTime]
    averageOverTime: list[AverageOverTime]


class Bucket(BaseModel):
    """How many scores fall in [lower, upper]."""

    lower: Number
    upper: Number
    value: Number


class ScoreDistribution(BaseModel):
    """One score name's distribution."""

    name: str
    distribution: list[Bucket]


class NewEval(BaseModel):
    """Body of ``POST /v1/evals/{requestId}``."""

    name: str = Field(min_length=1, max_length=200)
    score: Float


@reads.post("/query", response_model=Result[list[Eval]])
async def query_evals(body: EvalQueryParams, key: ApiKeyDep, store: StoreDep) -> Result[list[Eval]]:
    """Per score name: average, min, max and count, and per day count and average."""
    rows = await store.log.org(key.organization_id).read(scores.evals, body.to_query())
    return Result(data=[Eval(**r) for r in rows])


@reads.get("/scores", response_model=Result[list[str]])
async def get_eval_scores(key: ApiKeyDep, store: StoreDep) -> Result[list[str]]:
    """Every score name in use."""
    return Result(data=await store.log.org(key.organization_id).read(scores.names))


@reads.post("/score-distributions/query", response_model=Result[list[ScoreDistribution]])
async def query_score_distributions(
    body: EvalQueryParams, key: ApiKeyDep, store: StoreDep
) -> Result[list[ScoreDistribution]]:
    """Per score name, how the scores spread over ten equal ranges (or 0 and 1)."""
    rows = await store.log.org(key.organization_id).read(scores.distributions, body.to_query())
    return Result(data=[ScoreDistribution(**r) for r in rows])


@writes.post("/{requestId}", response_model=Result[None])
async def add_eval(requestId: str, body: NewEval, key: ApiKeyDep, store: StoreDep) -> Result[None]:
    """Attach a numeric score to a request."""
    await store.log.org(key.organization_id).write(
        requests.add_scores, requestId, {body.name: body.score}
    )
    return Result(data=None)
