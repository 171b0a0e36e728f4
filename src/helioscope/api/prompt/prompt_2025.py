"""The ``Prompt2025`` routes (``/v1/prompt-2025``): prompts with ``{{hc:…}}`` variables.

Versions, environments, and the queries Helicone's SDKs call before a request.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, model_validator

from helioscope.api._fields import Count, Int, storable_json
from helioscope.api._prompt_shape import (
    Prompt2025Out,
    Prompt2025VersionOut,
    Prompt2025VersionWithBody,
    prompt_2025,
    version_2025,
)
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, JsonResponse, Result
from helioscope.errors import NotFound
from helioscope.prompts import extract_variables, validate_inputs
from helioscope.store.log import prompt_calls
from helioscope.store.prompts import prompts_2025, versions_2025

reads = APIRouter(tags=["Prompt2025"], responses=ERROR_RESPONSES)
writes = APIRouter(tags=["Prompt2025"], responses=ERROR_RESPONSES)
public = APIRouter(tags=["Prompt2025"], responses=ERROR_RESPONSES)
_V1 = "/v1/prompt-2025"
_NAME = Field(min_length=1, max_length=400)


class PromptBody(BaseModel, extra="allow"):
    """An OpenAI chat request body, stored as given (variables included)."""

    model: str | None = None
    messages: list[dict[str, Any]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _storable(self) -> PromptBody:
        storable_json(self.model_dump())  # the extra fields too: numbers in 64 bits, no NUL
        return self


class CreateParams(BaseModel):
    """Body of ``POST /v1/prompt-2025``."""

    name: str = _NAME
    tags: list[str] = Field(default_factory=list)
    promptBody: PromptBody


class CreateResponse(BaseModel):
    """The new prompt and its first version."""

    id: str
    versionId: str


class UpdateParams(BaseModel):
    """Body of ``POST /v1/prompt-2025/update``: a new version after ``promptVersionId``."""

    promptId: str
    promptVersionId: str
    newMajorVersion: bool = False
    environment: str | None = Field(None, max_length=200)
    commitMessage: str = ""
    promptBody: PromptBody


class EnvironmentParams(BaseModel):
    """Body of the environment routes."""

    promptId: str
    promptVersionId: str
    environment: str = Field(min_length=1, max_length=200)


class QueryParams(BaseModel):
    """Body of ``POST /v1/prompt-2025/query``."""

    search: str = Field("", max_length=400)
    tagsFilter: list[str] = Field(default_factory=list)
    page: Count = 0
    pageSize: int = Field(100, ge=1, le=1000)


class VersionIdParams(BaseModel):
    """A version by id."""

    promptVersionId: str


class PromptIdParams(BaseModel):
    """A prompt by id."""

    promptId: str


class EnvironmentVersionParams(BaseModel):
    """A prompt's version in an environment."""

    promptId: str
    environment: str = Field(min_length=1)


class VersionsParams(BaseModel):
    """A prompt's versions, of one major version when given."""

    promptId: str
    majorVersion: Int | None = None


class RenameParams(BaseModel):
    """A new name."""

    name: str = _NAME


class TagsParams(BaseModel):
    """New tags."""

    tags: list[str]


class IdResult(BaseModel):
    """An id."""

    id: str


class VersionCounts(BaseModel):
    """How many versions and major versions a prompt has."""

    totalVersions: int
    majorVersions: int


class Prompt2025Input(BaseModel):
    """The inputs one call gave a version."""

    request_id: str
    version_id: str
    inputs: dict[str, Any]


def _body(body: PromptBody) -> dict[str, Any]:
    data = body.model_dump(exclude_none=True)
    # A stored body's variables must be well-formed now, not fail at every call later.
    validate_inputs(extract_variables(data), {})
    return data


@reads.get(_V1 + "/id/{promptId}", operation_id="GetPrompt2025")
async def get_prompt(promptId: str, key: ApiKeyDep, store: StoreDep) -> Result[Prompt2025Out]:
    """One prompt."""
    return Result(
        data=prompt_2025(
            await store.prompts.org(key.organization_id).read(prompts_2025.get_prompt, promptId)
        )
    )


@writes.post(_V1 + "/id/{promptId}/rename", operation_id="RenamePrompt2025")
async def rename(
    promptId: str, body: RenameParams, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Rename a prompt."""
    await store.prompts.org(key.organization_id).write(prompts_2025.rename, promptId, body.name)
    return Result(data=None)


@writes.patch(_V1 + "/id/{promptId}/tags", operation_id="UpdatePrompt2025Tags")
async def set_tags(
    promptId: str, body: TagsParams, key: ApiKeyDep, store: StoreDep
) -> Result[list[str]]:
    """Replace a prompt's tags."""
    return Result(
        data=await store.prompts.org(key.organization_id).write(
            prompts_2025.set_tags, promptId, body.tags
        )
    )


@writes.delete(_V1 + "/{promptId}", operation_id="DeletePrompt2025")
async def delete_prompt(promptId: str, key: ApiKeyDep, store: StoreDep) -> Result[None]:
    """Delete a prompt and its versions."""
    await store.prompts.org(key.organization_id).write(prompts_2025.delete_prompt, promptId)
    return Result(data=None)


@writes.delete(_V1 + "/{promptId}/{versionId}", operation_id="DeletePrompt2025Version")
async def delete_version(
    promptId: str, versionId: str, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Delete a version; the production version cannot be deleted (400)."""
    await store.prompts.org(key.organization_id).write(
        versions_2025.delete_version, promptId, versionId
    )
    return Result(data=None)


@reads.get(_V1 + "/id/{promptId}/{versionId}/inputs", operation_id="GetPrompt2025Inputs")
async def call_inputs(
    promptId: str,
    versionId: str,
    key: ApiKeyDep,
    store: StoreDep,
    requestId: str = Query(min_length=1),
) -> Result[Prompt2025Input]:
    """The inputs a logged call gave this version."""
    inputs = await store.log.org(key.organization_id).read(
        prompt_calls.call_inputs, promptId, versionId, requestId
    )
    if inputs is None:
        raise NotFound(f"inputs of prompt version {versionId} for request {requestId} not found")
    return Result(data=Prompt2025Input(request_id=requestId, version_id=versionId, inputs=inputs))


@reads.get(_V1 + "/tags", operation_id="GetPrompt2025Tags")
async def tags(key: ApiKeyDep, store: StoreDep) -> Result[list[str]]:
    """Every tag in use."""
    return Result(data=await store.prompts.org(key.organization_id).read(prompts_2025.all_tags))


@reads.get(_V1 + "/environments", operation_id="GetPrompt2025Environments")
async def environments(key: ApiKeyDep, store: StoreDep) -> Result[list[str]]:
    """Every environment in use."""
    return Result(
        data=await store.prompts.org(key.organization_id).read(prompts_2025.all_environments)
    )


@writes.post(_V1, operation_id="CreatePrompt2025", status_code=201)
async def create(body: CreateParams, key: ApiKeyDep, store: StoreDep) -> Result[CreateResponse]:
    """Create a prompt; its first version (0.0) is in production."""
    prompt, version = await store.prompts.org(key.organization_id).write(
        prompts_2025.create_prompt,
        body.name,
        list(dict.fromkeys(body.tags)),
        _body(body.promptBody),
    )
    return Result(data=CreateResponse(id=prompt.id, versionId=version.id))


@writes.post(_V1 + "/update", operation_id="UpdatePrompt2025")
async def update(body: UpdateParams, key: ApiKeyDep, store: StoreDep) -> Result[IdResult]:
    """A new version (minor, or major with ``newMajorVersion``), optionally in an environment."""
    version = await store.prompts.org(key.organization_id).write(
        versions_2025.new_version,
        body.promptId,
        body.promptVersionId,
        new_major=body.newMajorVersion,
        commit_message=body.commitMessage,
        body=_body(body.promptBody),
        environment=body.environment,
    )
    return Result(data=IdResult(id=version.id))


@writes.post(_V1 + "/update/environment", operation_id="SetPromptVersionEnvironment")
async def set_environment(body: EnvironmentParams, key: ApiKeyDep, store: StoreDep) -> Result[None]:
    """Move an environment to this version (``production`` promotes it)."""
    await store.prompts.org(key.organization_id).write(
        versions_2025.set_environment, body.promptId, body.promptVersionId, body.environment
    )
    return Result(data=None)


@writes.post(_V1 + "/remove/environment", operation_id="RemoveEnvironmentFromVersion")
async def remove_environment(
    body: EnvironmentParams, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Take an environment off a version (``production`` can only be moved)."""
    await store.prompts.org(key.organization_id).write(
        versions_2025.remove_environment, body.promptId, body.promptVersionId, body.environment
    )
    return Result(data=None)


@reads.get(_V1 + "/count", operation_id="GetPrompt2025Count")
async def count(key: ApiKeyDep, store: StoreDep) -> Result[int]:
    """How many prompts the organization has."""
    return Result(
        data=await store.prompts.org(key.organization_id).read(prompts_2025.count_prompts)
    )


@reads.post(_V1 + "/query", operation_id="GetPrompts2025")
async def query(body: QueryParams, key: ApiKeyDep, store: StoreDep) -> Result[list[Prompt2025Out]]:
    """A page of prompts by name (or id) and tags, newest first."""
    prompts = await store.prompts.org(key.organization_id).read(
        prompts_2025.query_prompts, body.search, body.tagsFilter, body.page, body.pageSize
    )
    return Result(data=[prompt_2025(p) for p in prompts])


def _versions_routes(prefix: str, include_body: bool) -> None:
    """The three version queries the SDKs call (v2 answers with the body inline)."""
    shape = Prompt2025VersionWithBody if include_body else Prompt2025VersionOut

    @reads.post(
        prefix + "/query/version",
        operation_id=f"GetPrompt2025Version{prefix[2]}",
        response_model=Result[shape],  # type: ignore[valid-type]
    )
    async def query_version(
        body: VersionIdParams, request: Request, key: ApiKeyDep, store: StoreDep
    ) -> Result[Prompt2025VersionOut]:
        """One version."""
        version = await store.prompts.org(key.organization_id).read(
            prompts_2025.must_get_version, body.promptVersionId
        )
        return Result(data=version_2025(version, str(request.base_url), include_body))

    @reads.post(
        prefix + "/query/environment-version",
        operation_id=f"GetPrompt2025EnvironmentVersion{prefix[2]}",
        response_model=Result[shape],  # type: ignore[valid-type]
    )
    async def query_environment_version(
        body: EnvironmentVersionParams, request: Request, key: ApiKeyDep, store: StoreDep
    ) -> Result[Prompt2025VersionOut]:
        """The version in an environment."""
        version = await store.prompts.org(key.organization_id).read(
            versions_2025.environment_version, body.promptId, body.environment
        )
        return Result(data=version_2025(version, str(request.base_url), include_body))

    @reads.post(
        prefix + "/query/production-version",
        operation_id=f"GetPrompt2025ProductionVersion{prefix[2]}",
        response_model=Result[shape],  # type: ignore[valid-type]
    )
    async def query_production_version(
        body: PromptIdParams, request: Request, key: ApiKeyDep, store: StoreDep
    ) -> Result[Prompt2025VersionOut]:
        """The production version."""
        version = await store.prompts.org(key.organization_id).read(
            versions_2025.environment_version, body.promptId, "production"
        )
        return Result(data=version_2025(version, str(request.base_url), include_body))


_versions_routes(_V1, include_body=False)
_versions_routes("/v2/prompt-2025", include_body=True)


@reads.post(_V1 + "/query/versions", operation_id="GetPrompt2025Versions")
async def query_versions(
    body: VersionsParams, request: Request, key: ApiKeyDep, store: StoreDep
) -> Result[list[Prompt2025VersionOut]]:
    """A prompt's versions, newest first."""
    versions = await store.prompts.org(key.organization_id).read(
        versions_2025.versions, body.promptId, body.majorVersion
    )
    return Result(data=[version_2025(v, str(request.base_url)) for v in versions])


@reads.post(_V1 + "/query/total-versions", operation_id="GetPrompt2025TotalVersions")
async def total_versions(
    body: PromptIdParams, key: ApiKeyDep, store: StoreDep
) -> Result[VersionCounts]:
    """How many versions and majors a prompt has."""
    versions = await store.prompts.org(key.organization_id).read(
        versions_2025.versions, body.promptId
    )
    majors = {v.major_version for v in versions}
    return Result(data=VersionCounts(totalVersions=len(versions), majorVersions=len(majors)))


@reads.get(_V1 + "/{promptVersionId}/prompt-body", operation_id="GetPrompt2025VersionBody")
async def prompt_body(
    promptVersionId: str, key: ApiKeyDep, store: StoreDep
) -> Result[dict[str, Any]]:
    """A version's full body (messages, tools, …)."""
    version = await store.prompts.org(key.organization_id).read(
        prompts_2025.must_get_version, promptVersionId
    )
    return Result(data=version.prompt_body)


@public.get(_V1 + "/body/{promptVersionId}/{token}", operation_id="GetPrompt2025SignedBody")
async def signed_body(promptVersionId: str, token: str, store: StoreDep) -> JsonResponse:
    """A version's body, bare, at the credential-free URL given as ``s3_url``.

    The SDKs fetch it like a signed S3 URL, without an API key: the secret in the URL is the
    credential.
    """
    version = await store.prompts.read(versions_2025.version_by_token, promptVersionId, token)
    return JsonResponse(version.prompt_body)
