"""The ``Experiment`` tag's older routes: experiments over datasets, hypotheses, evaluators.

They share the experiments of the v2 API: a hypothesis is a prompt version the experiment runs,
its runs are that version's output cells.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from helioscope.api._experiment_shapes import ExperimentId
from helioscope.api._fields import Number, TextMap
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.experiments import legacy
from helioscope.store.experiments import experiments
from helioscope.store.log import scores
from helioscope.store.prompts import legacy_prompts

reads = APIRouter(prefix="/v1/experiment", tags=["Experiment"], responses=ERROR_RESPONSES)
writes = APIRouter(prefix="/v1/experiment", tags=["Experiment"], responses=ERROR_RESPONSES)


class NewEmptyExperiment(BaseModel):
    """Body of ``POST /v1/experiment/new-empty``."""

    datasetId: str
    metadata: TextMap


class NewExperimentParams(BaseModel):
    """Body of ``POST /v1/experiment``."""

    datasetId: str
    promptVersion: str
    model: str = Field(max_length=200)
    providerKeyId: str
    meta: Any = None


class NewHypothesis(BaseModel):
    """Body of ``POST /v1/experiment/hypothesis``."""

    experimentId: str
    promptVersion: str
    model: str = Field(max_length=200)
    providerKeyId: str
    status: str = Field(pattern="^(PENDING|RUNNING|COMPLETED|FAILED)$")


class HypothesisId(BaseModel):
    """``{hypothesisId}``."""

    hypothesisId: str


class Score(BaseModel):
    """A score: its type and the mean value."""

    valueType: str
    value: Number


class HypothesisScores(BaseModel):
    """A hypothesis's runs and the mean of each score over them."""

    runsCount: int
    scores: dict[str, Score]


class UpdateMeta(BaseModel):
    """Body of ``POST /v1/experiment/update-meta``."""

    experimentId: str
    meta: TextMap


@writes.post("/new-empty", response_model=Result[ExperimentId])
async def create_new_empty_experiment(
    body: NewEmptyExperiment, key: ApiKeyDep, store: StoreDep
) -> Result[ExperimentId]:
    """An experiment over a dataset, with no hypothesis yet."""
    experiment_id = await legacy.dataset_experiment(
        store, key.organization_id, body.datasetId, dict(body.metadata)
    )
    return Result(data=ExperimentId(experimentId=experiment_id))


@writes.post("", response_model=Result[ExperimentId])
async def create_new_experiment_old(
    body: NewExperimentParams, key: ApiKeyDep, store: StoreDep
) -> Result[ExperimentId]:
    """An experiment over a dataset with one hypothesis."""
    org = key.organization_id
    await store.prompts.org(org).read(legacy_prompts.must_get_version, body.promptVersion)
    meta = body.meta if isinstance(body.meta, dict) else {}
    experiment_id = await legacy.dataset_experiment(store, org, body.datasetId, meta)
    await legacy.add_hypothesis(
        store, org, experiment_id, body.promptVersion, body.model, "PENDING", body.providerKeyId
    )
    return Result(data=ExperimentId(experimentId=experiment_id))


@writes.post("/hypothesis", response_model=Result[HypothesisId])
async def create_new_experiment_hypothesis(
    body: NewHypothesis, key: ApiKeyDep, store: StoreDep
) -> Result[HypothesisId]:
    """Add a hypothesis (a prompt version and model) to an experiment."""
    hypothesis_id = await legacy.add_hypothesis(
        store,
        key.organization_id,
        body.experimentId,
        body.promptVersion,
        body.model,
        body.status,
        body.providerKeyId,
    )
    return Result(data=HypothesisId(hypothesisId=hypothesis_id))


@reads.post("/hypothesis/{hypothesisId}/scores/query", response_model=Result[HypothesisScores])
async def get_experiment_hypothesis_scores(
    hypothesisId: str, key: ApiKeyDep, store: StoreDep
) -> Result[HypothesisScores]:
    """The mean of each score over the hypothesis's successful runs."""
    org = key.organization_id
    hypothesis = await store.org(org).read(experiments.hypothesis, hypothesisId)
    cells = await store.org(org).read(
        experiments.cells, hypothesis["experiment_id"], hypothesis["prompt_version_id"]
    )
    runs = [c["request_id"] for c in cells if c["request_id"] and c["status"] == "success"]
    aggregates = await store.log.org(org).read(scores.aggregate, runs)
    means = {k: Score(valueType="number", value=v["mean"]) for k, v in aggregates.items()}
    return Result(data=HypothesisScores(runsCount=len(runs), scores=means))


@writes.post("/update-meta", response_model=Result[dict[str, Any]])
async def update_experiment_meta(
    body: UpdateMeta, key: ApiKeyDep, store: StoreDep
) -> Result[dict[str, Any]]:
    """Merge keys into an experiment's metadata; returns the result."""
    org = key.organization_id
    found = await store.org(org).read(experiments.get_experiment, body.experimentId)
    meta = {**(found["meta"] or {}), **body.meta}
    await store.org(org).write(experiments.update_experiment, body.experimentId, meta=meta)
    return Result(data=meta)
