"""``/v1/helioscope/experiments``: an experiment's name, which Helicone's API cannot change.

Changing state, it needs the write scope.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field, StringConstraints

from helioscope.api.deps import LogKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.store.experiments import experiments

router = APIRouter(
    prefix="/v1/helioscope/experiments", tags=["Helioscope UI"], responses=ERROR_RESPONSES
)


class ExperimentRename(BaseModel):
    """Body of ``PATCH /v1/helioscope/experiments/{experimentId}``."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = (
        Field(description="The experiment's new name.")
    )


@router.patch("/{experimentId}", response_model=Result[None])
async def rename_experiment(
    experimentId: str, body: ExperimentRename, key: LogKeyDep, store: StoreDep
) -> Result[None]:
    """Rename an experiment of the caller's organization."""
    await store.org(key.organization_id).write(
        experiments.update_experiment, experimentId, name=body.name
    )
    return Result(data=None)
