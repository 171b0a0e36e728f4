"""The ``Experiment`` tag, v2: running many cells, run status, and score aggregates.

``POST /v2/experiment/{id}/run`` and ``GET /v2/experiment/{id}/run/status`` are Helioscope
additions: Helicone's UI runs one cell per call (``run-hypothesis``); these run a whole grid in
the background, a bounded number of cells at a time, and report progress.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from helioscope.api._experiment_deps import ExperimentsDep
from helioscope.api._fields import Number
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.store import MAX_PAGE, Store
from helioscope.store.experiments import experiments
from helioscope.store.log import scores
from helioscope.store.prompts import legacy_prompts

reads = APIRouter(prefix="/v2/experiment", tags=["Experiment"], responses=ERROR_RESPONSES)
writes = APIRouter(prefix="/v2/experiment", tags=["Experiment"], responses=ERROR_RESPONSES)


class RunCells(BaseModel):
    """Which cells to run: every row with every prompt version, unless narrowed."""

    promptVersionIds: list[str] | None = Field(None, max_length=MAX_PAGE)
    inputRecordIds: list[str] | None = Field(None, max_length=MAX_PAGE)


class RunStarted(BaseModel):
    """How many cells the run covers."""

    cells: int


class RunStatus(BaseModel):
    """Progress of the experiment's cells, and of its evaluators."""

    running: bool
    total: int
    pending: int
    inProgress: int
    succeeded: int
    failed: int
    unscoredOutputs: int
    evaluatorErrors: list[str]


class ScoreV2(BaseModel):
    """An aggregate score as Helicone shapes it: the mean as ``value``, with ``min``, ``max``."""

    valueType: str
    value: Number
    max: Number
    min: Number


class CountedScore(ScoreV2):
    """Helioscope's UI's aggregate score: Helicone's, and over how many outputs."""

    count: int


@writes.post("/{experimentId}/run", response_model=Result[RunStarted])
async def run_experiment(
    experimentId: str, body: RunCells, key: ApiKeyDep, store: StoreDep, service: ExperimentsDep
) -> Result[RunStarted]:
    """Run the chosen cells in the background; follow them with ``run/status``."""
    org = key.organization_id
    await store.org(org).read(experiments.get_experiment, experimentId)
    versions = body.promptVersionIds or [
        h["prompt_version_id"]
        for h in await store.org(org).read(experiments.hypotheses, experimentId)
    ]
    for version_id in versions:
        await store.prompts.org(org).read(legacy_prompts.must_get_version, version_id)
    rows = body.inputRecordIds or [
        r["id"] for r in await store.org(org).read(experiments.experiment_rows, experimentId)
    ]
    for record_id in rows:
        await store.org(org).read(experiments.experiment_row, experimentId, record_id)
    cells = [(r, v) for r in rows for v in versions]
    service.start_run(org, experimentId, cells)
    return Result(data=RunStarted(cells=len(cells)))


@reads.get("/{experimentId}/run/status", response_model=Result[RunStatus])
async def experiment_run_status(
    experimentId: str, key: ApiKeyDep, store: StoreDep, service: ExperimentsDep
) -> Result[RunStatus]:
    """Cells by status, and outputs still waiting for an evaluator."""
    org = key.organization_id
    await store.org(org).read(experiments.get_experiment, experimentId)
    counts = await store.org(org).read(experiments.cell_counts, experimentId)
    state = service.status(experimentId)
    return Result(
        data=RunStatus(
            running=state["running"],
            total=sum(counts.values()),
            pending=counts["pending"],
            inProgress=counts["running"],
            succeeded=counts["success"],
            failed=counts["failed"],
            unscoredOutputs=len(await service.runner.unscored(org, experimentId)),
            evaluatorErrors=state["evaluatorErrors"],
        )
    )


def _score(aggregate: dict[str, Any]) -> CountedScore:
    return CountedScore(
        valueType="number",
        value=aggregate["mean"],
        max=aggregate["max"],
        min=aggregate["min"],
        count=aggregate["count"],
    )


@reads.get("/{experimentId}/{promptVersionId}/scores", response_model=Result[dict[str, ScoreV2]])
async def get_experiment_prompt_version_scores(
    experimentId: str, promptVersionId: str, key: ApiKeyDep, store: StoreDep
) -> Result[dict[str, ScoreV2]]:
    """Each score over the prompt version's outputs: mean, min and max.

    Boolean scores are stored as 1 or 0, so their mean is a pass rate.
    """
    counted = await version_scores(experimentId, promptVersionId, key.organization_id, store)
    return Result(data={k: ScoreV2(**v.model_dump(exclude={"count"})) for k, v in counted.items()})


async def version_scores(
    experiment_id: str, prompt_version_id: str, org: str, store: Store
) -> dict[str, CountedScore]:
    """Each score over a prompt version's successful outputs, with how many it covers."""
    await store.org(org).read(experiments.get_experiment, experiment_id)
    cells = await store.org(org).read(experiments.cells, experiment_id, prompt_version_id)
    ids = [c["request_id"] for c in cells if c["request_id"] and c["status"] == "success"]
    aggregates = await store.log.org(org).read(scores.aggregate, ids)
    return {k: _score(v) for k, v in aggregates.items()}


@reads.get("/{experimentId}/{requestId}/{scoreKey}", response_model=Result[ScoreV2 | None])
async def get_experiment_score(
    experimentId: str, requestId: str, scoreKey: str, key: ApiKeyDep, store: StoreDep
) -> Result[ScoreV2 | None]:
    """One score of one output of the experiment, or null when it has none."""
    org = key.organization_id
    await store.org(org).read(experiments.get_experiment, experimentId)
    aggregates = await store.log.org(org).read(scores.aggregate, [requestId])
    found = aggregates.get(scoreKey)
    if found is None:
        return Result(data=None)
    return Result(data=ScoreV2(**_score(found).model_dump(exclude={"count"})))
