"""``/v1/helioscope/experiments``: what Helicone's experiment routes do not offer.

An experiment's name, which Helicone's API cannot change, and its scores with their counts,
which Helicone's ``ScoreV2`` does not carry.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field, StringConstraints

from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.api.experiment.v2_runs import CountedScore, version_scores
from helioscope.store.experiments import experiments

writes = APIRouter(
    prefix="/v1/helioscope/experiments", tags=["Helioscope UI"], responses=ERROR_RESPONSES
)
reads = APIRouter(
    prefix="/v1/helioscope/experiments", tags=["Helioscope UI"], responses=ERROR_RESPONSES
)


@reads.get(
    "/{experimentId}/{promptVersionId}/scores", response_model=Result[dict[str, CountedScore]]
)
async def get_version_scores(
    experimentId: str, promptVersionId: str, key: ApiKeyDep, store: StoreDep
) -> Result[dict[str, CountedScore]]:
    """Each score over the prompt version's outputs: mean, min, max and how many outputs."""
    found = await version_scores(experimentId, promptVersionId, key.organization_id, store)
    return Result(data=found)


class ExperimentRename(BaseModel):
    """Body of ``PATCH /v1/helioscope/experiments/{experimentId}``."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = (
        Field(description="The experiment's new name.")
    )


@writes.patch("/{experimentId}", response_model=Result[None])
async def rename_experiment(
    experimentId: str, body: ExperimentRename, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Rename an experiment of the caller's organization."""
    await store.org(key.organization_id).write(
        experiments.update_experiment, experimentId, name=body.name
    )
    return Result(data=None)
