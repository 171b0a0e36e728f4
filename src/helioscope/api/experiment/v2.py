"""The ``Experiment`` tag, v2: experiments over prompt versions, rows, runs and scores."""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter
from pydantic import BaseModel, Field

from helioscope.api._experiment_deps import (
    ExperimentsDep,
)
from helioscope.api._experiment_shapes import (
    ExperimentId,
    ExperimentV2,
    ExperimentV2Output,
    ExperimentV2PromptVersion,
    ExperimentV2Row,
    ExtendedExperimentData,
    experiment_fields,
    shape_output,
)
from helioscope.api._fields import Json, JsonObject, Template, TextMap
from helioscope.api._prompt_shape import PromptVersionResult, version_result
from helioscope.api._request_shape import iso
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.experiments import setup
from helioscope.prompts import legacy_input_keys
from helioscope.store import MAX_PAGE
from helioscope.store.experiments import experiments
from helioscope.store.prompts import legacy_prompts, legacy_versions

reads = APIRouter(prefix="/v2/experiment", tags=["Experiment"], responses=ERROR_RESPONSES)
writes = APIRouter(prefix="/v2/experiment", tags=["Experiment"], responses=ERROR_RESPONSES)
Inputs = TextMap


class NewExperiment(BaseModel):
    """Body of ``POST /v2/experiment/new``."""

    name: str = Field(min_length=1, max_length=400)
    originalPromptVersion: str


class NewVersion(BaseModel):
    """Body of ``POST /v2/experiment/{experimentId}/prompt-version``."""

    newHeliconeTemplate: Template
    parentPromptVersionId: str
    isMajorVersion: bool = False
    metadata: JsonObject | None = None
    experimentId: str | None = None
    bumpForMajorPromptVersionId: str | None = None


class ManualRow(BaseModel):
    """Body of ``add-manual-row``."""

    inputs: Inputs


class ManualRows(BaseModel):
    """Body of ``add-manual-rows-batch``."""

    inputs: list[Inputs] = Field(max_length=MAX_PAGE)


class RowIds(BaseModel):
    """Body of ``DELETE /rows``."""

    inputRecordIds: list[str] = Field(max_length=MAX_PAGE)


class BatchRow(BaseModel):
    """One row of ``row/insert/batch`` (``inputRecordId``: the record it copies)."""

    autoInputs: list[Json]
    inputs: Inputs
    inputRecordId: str


class BatchRows(BaseModel):
    """Body of ``row/insert/batch``."""

    rows: list[BatchRow] = Field(max_length=MAX_PAGE)


class RowUpdate(BaseModel):
    """Body of ``row/update``."""

    inputs: Inputs
    inputRecordId: str


class RunCell(BaseModel):
    """Body of ``run-hypothesis``."""

    inputRecordId: str
    promptVersionId: str


@writes.post("/create/empty", response_model=Result[ExperimentId])
async def create_empty_experiment(key: ApiKeyDep, store: StoreDep) -> Result[ExperimentId]:
    """An experiment with a new empty prompt."""
    experiment_id = await setup.empty_experiment(store, key.organization_id)
    return Result(data=ExperimentId(experimentId=experiment_id))


@writes.post("/create/from-request/{requestId}", response_model=Result[ExperimentId])
async def create_experiment_from_request(
    requestId: str, key: ApiKeyDep, store: StoreDep
) -> Result[ExperimentId]:
    """An experiment whose prompt and first row come from a logged request."""
    experiment_id = await setup.experiment_from_request(store, key.organization_id, requestId)
    return Result(data=ExperimentId(experimentId=experiment_id))


@writes.post("/new", response_model=Result[ExperimentId])
async def create_new_experiment(
    body: NewExperiment, key: ApiKeyDep, store: StoreDep
) -> Result[ExperimentId]:
    """An experiment over a major prompt version."""
    experiment_id = await setup.new_experiment(
        store, key.organization_id, body.name, body.originalPromptVersion
    )
    return Result(data=ExperimentId(experimentId=experiment_id))


@reads.get("", response_model=Result[list[ExperimentV2]])
async def get_experiments(key: ApiKeyDep, store: StoreDep) -> Result[list[ExperimentV2]]:
    """Your experiments, newest first."""
    rows = await store.org(key.organization_id).read(experiments.list_experiments)
    return Result(data=[ExperimentV2(**experiment_fields(r)) for r in rows])


@reads.get("/{experimentId}", response_model=Result[ExtendedExperimentData])
async def get_experiment_by_id(
    experimentId: str, key: ApiKeyDep, store: StoreDep
) -> Result[ExtendedExperimentData]:
    """An experiment with its rows and each row's cells."""
    org = key.organization_id
    found = await store.org(org).read(experiments.get_experiment, experimentId)
    by_row: dict[str, list[ExperimentV2Output]] = defaultdict(list)
    for cell in await store.org(org).read(experiments.cells, experimentId):
        by_row[cell["input_record_id"]].append(shape_output(cell))
    rows = [
        ExperimentV2Row(
            id=r["id"],
            inputs=r["inputs"] or {},
            prompt_version=r["prompt_version_id"] or found["original_prompt_version"] or "",
            requests=by_row[r["id"]],
            auto_prompt_inputs=r["auto_prompt_inputs"] or [],
        )
        for r in await store.org(org).read(experiments.experiment_rows, experimentId)
    ]
    return Result(data=ExtendedExperimentData(**experiment_fields(found), rows=rows))


@writes.delete("/{experimentId}", response_model=Result[None])
async def delete_experiment(experimentId: str, key: ApiKeyDep, store: StoreDep) -> Result[None]:
    """Delete an experiment with its rows and cells."""
    await store.org(key.organization_id).write(experiments.delete_experiment, experimentId)
    return Result(data=None)


@writes.post("/{experimentId}/prompt-version", response_model=Result[PromptVersionResult])
async def create_new_prompt_version_for_experiment(
    experimentId: str, body: NewVersion, key: ApiKeyDep, store: StoreDep
) -> Result[PromptVersionResult]:
    """Add a hypothesis: a new version of the prompt, run by this experiment."""
    org = key.organization_id
    await store.org(org).read(experiments.get_experiment, experimentId)
    version = await store.prompts.org(org).write(
        legacy_versions.create_subversion,
        body.parentPromptVersionId,
        body.newHeliconeTemplate,
        is_major=body.isMajorVersion,
        metadata=body.metadata,
        experiment_id=experimentId,
        bump_for_major_id=body.bumpForMajorPromptVersionId,
    )
    await store.org(org).write(experiments.add_hypothesis, experimentId, version.id, version.model)
    await store.org(org).write(
        experiments.add_input_keys, experimentId, legacy_input_keys(version.helicone_template)
    )
    return Result(data=version_result(version))


@writes.delete("/{experimentId}/prompt-version/{promptVersionId}", response_model=Result[None])
async def delete_prompt_version(
    experimentId: str, promptVersionId: str, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Stop running a prompt version in this experiment (its cells go too)."""
    await store.org(key.organization_id).write(
        experiments.remove_hypothesis, experimentId, promptVersionId
    )
    return Result(data=None)


@reads.get(
    "/{experimentId}/prompt-versions", response_model=Result[list[ExperimentV2PromptVersion]]
)
async def get_prompt_versions_for_experiment(
    experimentId: str, key: ApiKeyDep, store: StoreDep
) -> Result[list[ExperimentV2PromptVersion]]:
    """The prompt versions the experiment runs, oldest first."""
    org = key.organization_id
    await store.org(org).read(experiments.get_experiment, experimentId)
    out = []
    for hypothesis in await store.org(org).read(experiments.hypotheses, experimentId):
        v = await store.prompts.org(org).read(
            legacy_prompts.get_version, hypothesis["prompt_version_id"]
        )
        if v is None:
            continue
        out.append(
            ExperimentV2PromptVersion(
                created_at=iso(v.created_at),
                experiment_id=v.experiment_id,
                helicone_template=v.helicone_template,
                id=v.id,
                major_version=v.major_version,
                metadata=v.metadata,
                minor_version=v.minor_version,
                model=v.model,
                organization=v.organization_id,
                prompt_v2=v.prompt_id,
                soft_delete=False,
            )
        )
    return Result(data=out)


@reads.get("/{experimentId}/input-keys", response_model=Result[list[str]])
async def get_input_keys_for_experiment(
    experimentId: str, key: ApiKeyDep, store: StoreDep
) -> Result[list[str]]:
    """The input keys the experiment's prompt versions use."""
    found = await store.org(key.organization_id).read(experiments.get_experiment, experimentId)
    return Result(data=list(found["input_keys"] or []))


@writes.post("/{experimentId}/add-manual-row", response_model=Result[str])
async def add_manual_row_to_experiment(
    experimentId: str, body: ManualRow, key: ApiKeyDep, store: StoreDep
) -> Result[str]:
    """Add a row of inputs; returns its id."""
    ids = await store.org(key.organization_id).write(
        experiments.add_rows, experimentId, [{"inputs": body.inputs}]
    )
    return Result(data=ids[0])


@writes.post("/{experimentId}/add-manual-rows-batch", response_model=Result[None])
async def add_manual_rows_to_experiment_batch(
    experimentId: str, body: ManualRows, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Add many rows of inputs."""
    rows = [{"inputs": inputs} for inputs in body.inputs]
    await store.org(key.organization_id).write(experiments.add_rows, experimentId, rows)
    return Result(data=None)


@writes.delete("/{experimentId}/rows", response_model=Result[None])
async def delete_experiment_table_rows(
    experimentId: str, body: RowIds, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Delete rows and their cells."""
    await store.org(key.organization_id).write(
        experiments.delete_rows, experimentId, body.inputRecordIds
    )
    return Result(data=None)


@writes.post("/{experimentId}/row/insert/batch", response_model=Result[None])
async def create_experiment_table_row_batch(
    experimentId: str, body: BatchRows, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Add rows (copies of input records, with their auto inputs)."""
    rows = [{"inputs": r.inputs, "auto_prompt_inputs": r.autoInputs} for r in body.rows]
    await store.org(key.organization_id).write(experiments.add_rows, experimentId, rows)
    return Result(data=None)


@writes.post("/{experimentId}/row/insert/dataset/{datasetId}", response_model=Result[None])
async def create_experiment_table_row_from_dataset(
    experimentId: str, datasetId: str, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Add a row per dataset row: logged requests are replayed, input records copied."""
    await store.org(key.organization_id).read(experiments.get_experiment, experimentId)
    await setup.rows_from_dataset(store, key.organization_id, experimentId, datasetId)
    return Result(data=None)


@writes.post("/{experimentId}/row/update", response_model=Result[None])
async def update_experiment_table_row(
    experimentId: str, body: RowUpdate, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Replace a row's inputs."""
    await store.org(key.organization_id).write(
        experiments.update_row, experimentId, body.inputRecordId, body.inputs
    )
    return Result(data=None)


@writes.post("/{experimentId}/run-hypothesis", response_model=Result[str])
async def run_hypothesis(
    experimentId: str, body: RunCell, key: ApiKeyDep, store: StoreDep, service: ExperimentsDep
) -> Result[str]:
    """Run one row with one prompt version through the gateway; returns the request id."""
    org = key.organization_id
    await store.org(org).read(experiments.get_experiment, experimentId)
    await store.org(org).read(experiments.experiment_row, experimentId, body.inputRecordId)
    await store.prompts.org(org).read(legacy_prompts.must_get_version, body.promptVersionId)
    request_id = await service.run_hypothesis(
        org, experimentId, body.inputRecordId, body.promptVersionId
    )
    return Result(data=request_id)


@reads.get("/{experimentId}/should-run-evaluators", response_model=Result[bool])
async def should_run_evaluators(
    experimentId: str, key: ApiKeyDep, store: StoreDep, service: ExperimentsDep
) -> Result[bool]:
    """True while some output still lacks a score of an attached evaluator."""
    await store.org(key.organization_id).read(experiments.get_experiment, experimentId)
    return Result(data=bool(await service.runner.unscored(key.organization_id, experimentId)))
