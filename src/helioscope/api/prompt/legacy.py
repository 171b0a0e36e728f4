"""The ``Prompt`` tag: legacy prompts (``Helicone-Prompt-Id``), their versions and inputs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from helioscope.api._fields import JsonObject, Template
from helioscope.api._prompt_shape import (
    CreatePromptResponse,
    PromptInputRecord,
    PromptResult,
    PromptsResult,
    PromptVersionResult,
    PromptVersionResultCompiled,
    PromptVersionResultFilled,
    input_record,
    prompt_result,
    prompts_result,
    version_result,
)
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.prompts import compile_prompt_body, fill_legacy_template
from helioscope.store import PromptVersion, Store
from helioscope.store.experiments import experiments
from helioscope.store.prompts import legacy_prompts, legacy_versions

reads = APIRouter(prefix="/v1/prompt", tags=["Prompt"], responses=ERROR_RESPONSES)
writes = APIRouter(prefix="/v1/prompt", tags=["Prompt"], responses=ERROR_RESPONSES)

_FILTER = "A filter tree: 'all', a leaf, or {left, operator, right}."


class PromptsQueryParams(BaseModel):
    """Body of ``POST /v1/prompt/query``: a filter on ``prompt_v2`` (id, user_defined_id)."""

    filter: Any = Field("all", description=_FILTER)


class TimeFilter(BaseModel):
    """A time range (accepted for compatibility)."""

    start: str
    end: str


class PromptQueryParams(BaseModel):
    """Body of ``POST /v1/prompt/{promptId}/query``."""

    timeFilter: TimeFilter | None = None


class CreatePromptParams(BaseModel):
    """Body of ``POST /v1/prompt/create``: the template is the prompt (model, messages, …)."""

    userDefinedId: str = Field(min_length=1, max_length=400)
    prompt: Template
    metadata: JsonObject = Field(default_factory=dict)


class UserDefinedIdParams(BaseModel):
    """Body of ``PATCH /v1/prompt/{promptId}/user-defined-id``."""

    userDefinedId: str = Field(min_length=1, max_length=400)


class PromptEditSubversionLabelParams(BaseModel):
    """Body of the edit-label route."""

    label: str = Field(max_length=400)


class PromptEditSubversionTemplateParams(BaseModel):
    """Body of the edit-template route."""

    heliconeTemplate: Template
    experimentId: str | None = None


class PromptCreateSubversionParams(BaseModel):
    """Body of the subversion routes."""

    newHeliconeTemplate: Template
    isMajorVersion: bool = False
    metadata: JsonObject | None = None
    experimentId: str | None = None
    bumpForMajorPromptVersionId: str | None = None


class PromoteParams(BaseModel):
    """Body of the promote route."""

    previousProductionVersionId: str | None = None


class InputsQueryParams(BaseModel):
    """Body of ``POST /v1/prompt/version/{id}/inputs/query``."""

    limit: int = Field(ge=1, le=1000)
    random: bool = False


class PromptVersionsQueryParams(BaseModel):
    """Body of ``POST /v1/prompt/{promptId}/versions/query``: a filter on ``prompts_versions``."""

    filter: Any = Field("all", description=_FILTER)
    includeExperimentVersions: bool = True


class PromptVersiosQueryParamsCompiled(PromptVersionsQueryParams):
    """Body of the compile and template routes (Helicone's name, typo included)."""

    inputs: dict[str, Any]


class PromptExperiment(BaseModel):
    """An experiment run on a prompt."""

    id: str
    created_at: str
    num_hypotheses: int
    dataset: str
    meta: dict[str, Any]


class MetadataResult(BaseModel):
    """A version's metadata after an edit."""

    metadata: dict[str, Any]


@reads.post("/query", operation_id="GetPrompts")
async def query_prompts(
    body: PromptsQueryParams, key: ApiKeyDep, store: StoreDep
) -> Result[list[PromptsResult]]:
    """Prompts matching a filter, newest first."""
    rows = await store.prompts.org(key.organization_id).read(
        legacy_prompts.query_prompts, body.filter
    )
    return Result(data=[prompts_result(r["prompt"], r["major_version"]) for r in rows])


@writes.post("/create", operation_id="CreatePrompt")
async def create_prompt(
    body: CreatePromptParams, key: ApiKeyDep, store: StoreDep
) -> Result[CreatePromptResponse]:
    """Create a prompt whose version 0.0 is the given template, in production."""
    metadata = {**body.metadata, "createdFromUi": True}
    prompt, version = await store.prompts.org(key.organization_id).write(
        legacy_prompts.create_prompt, body.userDefinedId, body.prompt, metadata
    )
    return Result(data=CreatePromptResponse(id=prompt.id, prompt_version_id=version.id))


@reads.post("/{promptId}/query", operation_id="GetPrompt")
async def get_prompt(
    promptId: str, body: PromptQueryParams, key: ApiKeyDep, store: StoreDep
) -> Result[PromptResult]:
    """A prompt with its versions and when it was last used."""
    found = await store.prompts.org(key.organization_id).read(legacy_prompts.get_prompt, promptId)
    return Result(data=prompt_result(found["prompt"], found["versions"], found["last_used"]))


@writes.delete("/{promptId}", operation_id="DeletePrompt", status_code=204)
async def delete_prompt(promptId: str, key: ApiKeyDep, store: StoreDep) -> Response:
    """Delete a prompt and all its versions."""
    await store.prompts.org(key.organization_id).write(legacy_prompts.delete_prompt, promptId)
    return Response(status_code=204)


@writes.patch("/{promptId}/user-defined-id", operation_id="UpdatePromptUserDefinedId")
async def set_user_defined_id(
    promptId: str, body: UserDefinedIdParams, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Change the Helicone-Prompt-Id a prompt answers to."""
    await store.prompts.org(key.organization_id).write(
        legacy_prompts.set_user_defined_id, promptId, body.userDefinedId
    )
    return Result(data=None)


@writes.post("/version/{promptVersionId}/edit-label", operation_id="EditPromptVersionLabel")
async def edit_label(
    promptVersionId: str, body: PromptEditSubversionLabelParams, key: ApiKeyDep, store: StoreDep
) -> Result[MetadataResult]:
    """Set a version's label."""
    metadata = await store.prompts.org(key.organization_id).write(
        legacy_versions.edit_label, promptVersionId, body.label
    )
    return Result(data=MetadataResult(metadata=metadata))


@writes.post("/version/{promptVersionId}/edit-template", operation_id="EditPromptVersionTemplate")
async def edit_template(
    promptVersionId: str,
    body: PromptEditSubversionTemplateParams,
    key: ApiKeyDep,
    store: StoreDep,
) -> Result[None]:
    """Replace a version's template in place."""
    await store.prompts.org(key.organization_id).write(
        legacy_versions.edit_template, promptVersionId, body.heliconeTemplate
    )
    return Result(data=None)


async def _subversion(
    version_id: str, body: PromptCreateSubversionParams, org_id: str, store: Store
) -> Result[PromptVersionResult]:
    version: PromptVersion = await store.prompts.org(org_id).write(
        legacy_versions.create_subversion,
        version_id,
        body.newHeliconeTemplate,
        is_major=body.isMajorVersion,
        metadata=body.metadata,
        experiment_id=body.experimentId,
        bump_for_major_id=body.bumpForMajorPromptVersionId,
    )
    return Result(data=version_result(version))


@writes.post("/version/{promptVersionId}/subversion", operation_id="CreateSubversion")
async def create_subversion(
    promptVersionId: str, body: PromptCreateSubversionParams, key: ApiKeyDep, store: StoreDep
) -> Result[PromptVersionResult]:
    """A new minor version after this one (or a new major with ``isMajorVersion``)."""
    return await _subversion(promptVersionId, body, key.organization_id, store)


@writes.post("/version/{promptVersionId}/subversion-from-ui", operation_id="CreateSubversionFromUi")
async def create_subversion_from_ui(
    promptVersionId: str, body: PromptCreateSubversionParams, key: ApiKeyDep, store: StoreDep
) -> Result[PromptVersionResult]:
    """The same as ``subversion`` (the web app's route)."""
    return await _subversion(promptVersionId, body, key.organization_id, store)


@writes.post("/version/{promptVersionId}/promote", operation_id="PromotePromptVersionToProduction")
async def promote(
    promptVersionId: str, body: PromoteParams, key: ApiKeyDep, store: StoreDep
) -> Result[PromptVersionResult]:
    """Make this version production (the previous one stops being it), in one transaction."""
    version = await store.prompts.org(key.organization_id).write(
        legacy_versions.promote, promptVersionId
    )
    return Result(data=version_result(version))


@reads.post("/version/{promptVersionId}/inputs/query", operation_id="GetInputs")
async def query_inputs(
    promptVersionId: str, body: InputsQueryParams, key: ApiKeyDep, store: StoreDep
) -> Result[list[PromptInputRecord]]:
    """The inputs calls gave this version (and stored input rows), newest first."""
    records = await store.prompts.org(key.organization_id).read(
        legacy_versions.version_inputs, promptVersionId, body.limit, body.random
    )
    return Result(data=[input_record(r) for r in records])


@reads.get("/{promptId}/experiments", operation_id="GetPromptExperiments")
async def prompt_experiments(
    promptId: str, key: ApiKeyDep, store: StoreDep
) -> Result[list[PromptExperiment]]:
    """Experiments that started from, or test, one of this prompt's versions, newest first."""
    await store.prompts.org(key.organization_id).read(legacy_prompts.get_prompt, promptId)
    found = await store.org(key.organization_id).read(experiments.for_prompt, promptId)
    return Result(
        data=[
            PromptExperiment(
                id=e["id"],
                created_at=e["created_at"].isoformat(),
                num_hypotheses=e["num_hypotheses"],
                dataset=e["dataset_id"] or "",
                meta=e["meta"] or {},
            )
            for e in found
        ]
    )


@reads.post("/{promptId}/versions/query", operation_id="GetPromptVersions")
async def query_versions(
    promptId: str, body: PromptVersionsQueryParams, key: ApiKeyDep, store: StoreDep
) -> Result[list[PromptVersionResult]]:
    """A prompt's versions matching a filter, newest first."""
    versions = await store.prompts.org(key.organization_id).read(
        legacy_versions.query_versions, promptId, body.filter, body.includeExperimentVersions
    )
    return Result(data=[version_result(v) for v in versions])


@reads.get("/version/{promptVersionId}", operation_id="GetPromptVersion")
async def get_version(
    promptVersionId: str, key: ApiKeyDep, store: StoreDep
) -> Result[PromptVersionResult]:
    """One version."""
    version = await store.prompts.org(key.organization_id).read(
        legacy_prompts.must_get_version, promptVersionId
    )
    return Result(data=version_result(version))


@writes.delete("/version/{promptVersionId}", operation_id="DeletePromptVersion")
async def delete_version(promptVersionId: str, key: ApiKeyDep, store: StoreDep) -> Result[None]:
    """Delete a version; the production version cannot be deleted (400)."""
    await store.prompts.org(key.organization_id).write(
        legacy_versions.delete_version, promptVersionId
    )
    return Result(data=None)


@reads.post("/{user_defined_id}/compile", operation_id="GetPromptVersionsCompiled")
async def compile_prompt(
    user_defined_id: str,
    body: PromptVersiosQueryParamsCompiled,
    key: ApiKeyDep,
    store: StoreDep,
) -> Result[PromptVersionResultCompiled]:
    """The production version with the inputs put in (tags and ``{{hc:…}}`` variables)."""
    version = await store.prompts.org(key.organization_id).read(
        legacy_versions.production_version, user_defined_id, body.filter
    )
    compiled = fill_legacy_template(version.helicone_template, body.inputs)
    if isinstance(compiled, dict):
        compiled = compile_prompt_body(compiled, body.inputs)
    return Result(
        data=PromptVersionResultCompiled(
            id=version.id,
            minor_version=version.minor_version,
            major_version=version.major_version,
            prompt_v2=version.prompt_id,
            model=version.model,
            prompt_compiled=compiled,
        )
    )


@reads.post("/{user_defined_id}/template", operation_id="GetPromptVersionTemplates")
async def fill_template(
    user_defined_id: str,
    body: PromptVersiosQueryParamsCompiled,
    key: ApiKeyDep,
    store: StoreDep,
) -> Result[PromptVersionResultFilled]:
    """The production version's template with the inputs put in its tags."""
    version = await store.prompts.org(key.organization_id).read(
        legacy_versions.production_version, user_defined_id, body.filter
    )
    return Result(
        data=PromptVersionResultFilled(
            id=version.id,
            minor_version=version.minor_version,
            major_version=version.major_version,
            prompt_v2=version.prompt_id,
            model=version.model,
            filled_helicone_template=fill_legacy_template(version.helicone_template, body.inputs),
        )
    )
