"""The experiments dependency, and the response shapes experiments and evaluators share."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel

from helioscope.api._request_shape import iso
from helioscope.experiments import ExperimentService


async def get_experiments(request: Request) -> ExperimentService:
    """The running experiments machinery (told which local socket serves us, if it asks)."""
    service: ExperimentService = request.app.state.services.started.experiments
    service.learn_address(request.scope.get("server"))
    return service


ExperimentsDep = Annotated[ExperimentService, Depends(get_experiments)]


class EvaluatorResult(BaseModel):
    """Helicone's ``EvaluatorResult``."""

    id: str
    created_at: str
    scoring_type: str
    llm_template: Any
    organization_id: str
    updated_at: str
    name: str
    code_template: Any
    last_mile_config: Any


def shape_evaluator(row: dict[str, Any]) -> EvaluatorResult:
    """A stored evaluator in Helicone's shape."""
    return EvaluatorResult(
        id=row["id"],
        created_at=iso(row["created_at"]) or "",
        scoring_type=row["scoring_type"],
        llm_template=row["llm_template"],
        organization_id=row["organization_id"],
        updated_at=iso(row["updated_at"]) or "",
        name=row["name"],
        code_template=row["code_template"],
        last_mile_config=row["last_mile_config"],
    )
