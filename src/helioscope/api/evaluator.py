"""The ``Evaluator`` tag: evaluators, their online configurations, tests and statistics."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from helioscope.api._experiment_deps import EvaluatorResult, ExperimentsDep, shape_evaluator
from helioscope.api._fields import Json, JsonObject, Number
from helioscope.api._request_shape import iso
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.errors import BadRequest
from helioscope.experiments import (
    BOOL_SUFFIX,
    Evaluation,
    EvaluationFailed,
    check_config,
    check_evaluator,
    parse_template,
    run_code,
    score_key,
)
from helioscope.store.experiments import evaluators
from helioscope.store.log import requests, scores

reads = APIRouter(prefix="/v1/evaluator", tags=["Evaluator"], responses=ERROR_RESPONSES)
writes = APIRouter(prefix="/v1/evaluator", tags=["Evaluator"], responses=ERROR_RESPONSES)


class CreateEvaluatorParams(BaseModel):
    """Body of ``POST /v1/evaluator``: code, or an LLM template with its scoring type."""

    scoring_type: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    llm_template: Json = None
    code_template: Json = None
    last_mile_config: Json = None


class UpdateEvaluatorParams(BaseModel):
    """Body of ``PUT /v1/evaluator/{evaluatorId}``: the fields to change."""

    scoring_type: str | None = Field(None, min_length=1, max_length=100)
    name: str | None = Field(None, min_length=1, max_length=200)
    llm_template: Json = None
    code_template: Json = None
    last_mile_config: Json = None


class EvaluatorExperiment(BaseModel):
    """An experiment an evaluator is attached to."""

    experiment_id: str
    experiment_name: str
    experiment_created_at: str


class OnlineEvaluator(BaseModel):
    """An online configuration: ``{sampleRate, filter, propertyFilters}``."""

    id: str
    config: Any


class CreateOnlineEvaluatorParams(BaseModel):
    """Body of ``POST …/onlineEvaluators``."""

    config: JsonObject


class TestInputs(BaseModel):
    """The row's inputs (and auto inputs) a test evaluates."""

    inputs: dict[str, str]
    autoInputs: dict[str, str] | None = None


class TestInput(BaseModel):
    """What a test evaluation looks at."""

    inputBody: str
    outputBody: str
    inputs: TestInputs
    promptTemplate: str | None = None

    def evaluation(self) -> Evaluation:
        """As the evaluators see it."""
        return Evaluation(
            request_body=self.inputBody,
            response_body=self.outputBody,
            inputs=self.inputs.inputs,
            prompt_template=self.promptTemplate or "",
        )


class PythonTest(BaseModel):
    """Body of ``POST /v1/evaluator/python/test``."""

    code: str = Field(min_length=1, max_length=100_000)
    testInput: TestInput


class PythonTestResult(BaseModel):
    """The code's output and printed lines; ``statusCode`` 200, or 400 when it failed."""

    output: str
    traces: list[str]
    statusCode: int | None = None


class EvaluatorConfig(BaseModel):
    """An evaluator under test, not stored."""

    evaluator_scoring_type: str
    evaluator_llm_template: str | None = None
    evaluator_code_template: str | None = None


class LlmTest(BaseModel):
    """Body of ``POST /v1/evaluator/llm/test``."""

    evaluatorName: str = Field(min_length=1, max_length=200)
    testInput: TestInput
    evaluatorConfig: EvaluatorConfig


class EvaluatorScore(BaseModel):
    """A test score."""

    score: Number | bool


class LastMileTest(BaseModel):
    """Body of ``POST /v1/evaluator/lastmile/test``."""

    testInput: TestInput
    config: dict[str, Any]


class EvaluatorStats(BaseModel):
    """How an evaluator has scored."""

    averageScore: Number
    totalUses: int
    recentTrend: Literal["up", "down", "stable"]
    scoreDistribution: list[dict[str, Any]]
    timeSeriesData: list[dict[str, Any]]


def _fields(body: BaseModel) -> dict[str, Any]:
    fields = body.model_dump(exclude_unset=True)
    if fields.get("llm_template") is not None and fields.get("code_template") is None:
        parse_template(fields["llm_template"])
    return fields


@writes.post("", response_model=Result[EvaluatorResult])
async def create_evaluator(
    body: CreateEvaluatorParams, key: ApiKeyDep, store: StoreDep
) -> Result[EvaluatorResult]:
    """Create an evaluator."""
    fields = _fields(body)
    check_evaluator(fields)
    return Result(
        data=shape_evaluator(
            await store.org(key.organization_id).write(evaluators.create_evaluator, fields)
        )
    )


@reads.post("/query", response_model=Result[list[EvaluatorResult]])
async def query_evaluators(key: ApiKeyDep, store: StoreDep) -> Result[list[EvaluatorResult]]:
    """Your evaluators."""
    rows = await store.org(key.organization_id).read(evaluators.list_evaluators)
    return Result(data=[shape_evaluator(r) for r in rows])


@reads.get("/{evaluatorId}", response_model=Result[EvaluatorResult])
async def get_evaluator(
    evaluatorId: str, key: ApiKeyDep, store: StoreDep
) -> Result[EvaluatorResult]:
    """One evaluator."""
    return Result(
        data=shape_evaluator(
            await store.org(key.organization_id).read(evaluators.get_evaluator, evaluatorId)
        )
    )


@writes.put("/{evaluatorId}", response_model=Result[EvaluatorResult])
async def update_evaluator(
    evaluatorId: str,
    body: UpdateEvaluatorParams,
    key: ApiKeyDep,
    store: StoreDep,
    service: ExperimentsDep,
) -> Result[EvaluatorResult]:
    """Change an evaluator."""
    org = key.organization_id
    fields = _fields(body)
    for required in ("name", "scoring_type"):  # optional to send, but an evaluator has both
        if required in fields and fields[required] is None:
            raise BadRequest(f"{required}: may not be null")
    check_evaluator({**await store.org(org).read(evaluators.get_evaluator, evaluatorId), **fields})
    updated = await store.org(org).write(evaluators.update_evaluator, evaluatorId, fields)
    service.online.forget(org)
    return Result(data=shape_evaluator(updated))


@writes.delete("/{evaluatorId}", response_model=Result[None])
async def delete_evaluator(
    evaluatorId: str, key: ApiKeyDep, store: StoreDep, service: ExperimentsDep
) -> Result[None]:
    """Delete an evaluator (and its online configurations)."""
    await store.org(key.organization_id).write(evaluators.delete_evaluator, evaluatorId)
    service.online.forget(key.organization_id)
    return Result(data=None)


@reads.get("/{evaluatorId}/experiments", response_model=Result[list[EvaluatorExperiment]])
async def get_experiments_for_evaluator(
    evaluatorId: str, key: ApiKeyDep, store: StoreDep
) -> Result[list[EvaluatorExperiment]]:
    """The experiments using an evaluator."""
    rows = await store.org(key.organization_id).read(evaluators.experiments_using, evaluatorId)
    return Result(
        data=[
            EvaluatorExperiment(
                experiment_id=r["experiment_id"],
                experiment_name=r["experiment_name"],
                experiment_created_at=iso(r["experiment_created_at"]) or "",
            )
            for r in rows
        ]
    )


@reads.get("/{evaluatorId}/onlineEvaluators", response_model=Result[list[OnlineEvaluator]])
async def get_online_evaluators(
    evaluatorId: str, key: ApiKeyDep, store: StoreDep
) -> Result[list[OnlineEvaluator]]:
    """An evaluator's online configurations."""
    rows = await store.org(key.organization_id).read(evaluators.online_configs, evaluatorId)
    return Result(data=[OnlineEvaluator(id=r["id"], config=r["config"]) for r in rows])


@writes.post("/{evaluatorId}/onlineEvaluators", response_model=Result[None])
async def create_online_evaluator(
    evaluatorId: str,
    body: CreateOnlineEvaluatorParams,
    key: ApiKeyDep,
    store: StoreDep,
    service: ExperimentsDep,
) -> Result[None]:
    """Run the evaluator on incoming logs: ``{sampleRate: 0-100, filter, propertyFilters}``."""
    org = key.organization_id
    config = check_config(body.config)
    await store.log.org(org).read(
        requests.count_requests, config.get("filter") or "all", None
    )  # a bad filter is a 400
    await store.org(org).write(evaluators.add_online, evaluatorId, config)
    service.online.forget(org)
    return Result(data=None)


@writes.delete("/{evaluatorId}/onlineEvaluators/{onlineEvaluatorId}", response_model=Result[None])
async def delete_online_evaluator(
    evaluatorId: str,
    onlineEvaluatorId: str,
    key: ApiKeyDep,
    store: StoreDep,
    service: ExperimentsDep,
) -> Result[None]:
    """Stop an online evaluator."""
    await store.org(key.organization_id).write(
        evaluators.delete_online, evaluatorId, onlineEvaluatorId
    )
    service.online.forget(key.organization_id)
    return Result(data=None)


@writes.post("/python/test", response_model=Result[PythonTestResult])
async def test_python_evaluator(
    body: PythonTest, key: ApiKeyDep, service: ExperimentsDep
) -> Result[PythonTestResult]:
    """Run code on a test input in the sandbox (time and memory limited)."""
    seen = body.testInput.evaluation()
    result = await run_code(
        body.code,
        request_body=seen.request_body,
        response_body=seen.response_body,
        inputs=dict(seen.inputs),
        limits=service.evaluations.limits,
    )
    if result.error is not None:
        traces = (
            [*result.traces, result.error] if result.error not in result.traces else result.traces
        )
        return Result(data=PythonTestResult(output=result.error, traces=traces, statusCode=400))
    return Result(
        data=PythonTestResult(output=result.output or "", traces=result.traces, statusCode=200)
    )


@writes.post("/llm/test", response_model=Result[EvaluatorScore])
async def test_llm_evaluator(
    body: LlmTest, key: ApiKeyDep, service: ExperimentsDep
) -> Result[EvaluatorScore]:
    """Score a test input with an evaluator that is not stored (judge calls are logged)."""
    evaluator = {
        "name": body.evaluatorName,
        "scoring_type": body.evaluatorConfig.evaluator_scoring_type,
        "llm_template": body.evaluatorConfig.evaluator_llm_template,
        "code_template": body.evaluatorConfig.evaluator_code_template,
    }
    check_evaluator(evaluator)
    try:
        score = await service.evaluations.score(
            key.organization_id, evaluator, body.testInput.evaluation(), None
        )
    except EvaluationFailed as exc:
        raise BadRequest(f"the evaluator failed: {exc}") from None
    return Result(data=EvaluatorScore(score=score))


@writes.post("/lastmile/test", response_model=Result[EvaluatorScore])
async def test_last_mile_evaluator(body: LastMileTest, key: ApiKeyDep) -> Result[EvaluatorScore]:
    """LastMile evaluators run on LastMile's hosted service, which Helioscope does not call."""
    raise BadRequest("LastMile evaluators are not supported: they need LastMile's hosted service")


def _trend(values: list[tuple[float, dt.datetime]]) -> Literal["up", "down", "stable"]:
    half = len(values) // 2
    if half == 0:
        return "stable"
    older = sum(v for v, _ in values[:half]) / half
    newer = sum(v for v, _ in values[half:]) / (len(values) - half)
    if abs(newer - older) <= 0.05 * max(abs(older), 1e-9):
        return "stable"
    return "up" if newer > older else "down"


@reads.get("/{evaluatorId}/stats", response_model=Result[EvaluatorStats])
async def get_evaluator_stats(
    evaluatorId: str, key: ApiKeyDep, store: StoreDep
) -> Result[EvaluatorStats]:
    """Average, uses, trend, distribution and daily averages of the evaluator's scores.

    The trend compares the mean of the newer half of the scores with the older half's.
    """
    org = key.organization_id
    evaluator = await store.org(org).read(evaluators.get_evaluator, evaluatorId)
    name = score_key(evaluator["name"], False)
    values = await store.log.org(org).read(scores.by_key, name) + await store.log.org(org).read(
        scores.by_key, name + BOOL_SUFFIX
    )
    values.sort(key=lambda v: v[1])
    numbers = [v for v, _ in values]
    distribution: dict[str, int] = defaultdict(int)
    days: dict[str, list[float]] = defaultdict(list)
    for value, when in values:
        distribution[f"{value:g}"] += 1
        days[when.date().isoformat()].append(value)
    return Result(
        data=EvaluatorStats(
            averageScore=sum(numbers) / len(numbers) if numbers else 0.0,
            totalUses=len(numbers),
            recentTrend=_trend(values),
            scoreDistribution=[{"range": k, "count": n} for k, n in sorted(distribution.items())],
            timeSeriesData=[{"date": d, "value": sum(v) / len(v)} for d, v in sorted(days.items())],
        )
    )
