"""An experiment's evaluator routes, served alike under ``/v1/experiment`` and ``/v2``."""

from __future__ import annotations

from fastapi import APIRouter

from helioscope.api._experiment_deps import EvaluatorResult, ExperimentsDep, shape_evaluator
from helioscope.api._experiment_shapes import EvaluatorId
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import Result
from helioscope.store.experiments import evaluators, experiments


async def get_experiment_evaluators(
    experimentId: str, key: ApiKeyDep, store: StoreDep
) -> Result[list[EvaluatorResult]]:
    """The evaluators attached to the experiment."""
    await store.org(key.organization_id).read(experiments.get_experiment, experimentId)
    rows = await store.org(key.organization_id).read(evaluators.for_experiment, experimentId)
    return Result(data=[shape_evaluator(r) for r in rows])


async def create_experiment_evaluator(
    experimentId: str, body: EvaluatorId, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Attach an evaluator."""
    await store.org(key.organization_id).read(experiments.get_experiment, experimentId)
    await store.org(key.organization_id).write(evaluators.attach, experimentId, body.evaluatorId)
    return Result(data=None)


async def delete_experiment_evaluator(
    experimentId: str, evaluatorId: str, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Detach an evaluator."""
    await store.org(key.organization_id).write(evaluators.detach, experimentId, evaluatorId)
    return Result(data=None)


async def run_experiment_evaluators(
    experimentId: str, key: ApiKeyDep, store: StoreDep, service: ExperimentsDep
) -> Result[None]:
    """Score every output that lacks a score of each attached evaluator (waits for them)."""
    await store.org(key.organization_id).read(experiments.get_experiment, experimentId)
    await service.run_evaluators(key.organization_id, experimentId)
    return Result(data=None)


def add_evaluator_routes(router: APIRouter) -> None:
    """Register the four evaluator routes on ``router`` (an experiment router)."""
    path = "/{experimentId}/evaluators"
    router.add_api_route(
        path,
        get_experiment_evaluators,
        methods=["GET"],
        response_model=Result[list[EvaluatorResult]],
    )
    router.add_api_route(
        path, create_experiment_evaluator, methods=["POST"], response_model=Result[None]
    )
    router.add_api_route(
        path + "/{evaluatorId}",
        delete_experiment_evaluator,
        methods=["DELETE"],
        response_model=Result[None],
    )
    router.add_api_route(
        path + "/run", run_experiment_evaluators, methods=["POST"], response_model=Result[None]
    )
