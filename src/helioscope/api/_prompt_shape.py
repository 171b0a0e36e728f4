"""Helicone's prompt response shapes, built from the store's records."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from pydantic import BaseModel

from helioscope.store import (
    InputRecord,
    LegacyPrompt,
    Prompt2025,
    Prompt2025Version,
    PromptVersion,
)


def iso(value: dt.datetime | None) -> str:
    """Helicone's timestamp text (ISO 8601, UTC, milliseconds)."""
    if value is None:
        return ""
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class PromptsResult(BaseModel):
    """One prompt in ``POST /v1/prompt/query``."""

    id: str
    user_defined_id: str
    description: str
    pretty_name: str
    created_at: str
    major_version: int
    metadata: dict[str, Any] | None = None


class PromptResult(BaseModel):
    """``POST /v1/prompt/{promptId}/query``."""

    id: str
    user_defined_id: str
    description: str
    pretty_name: str
    major_version: int
    latest_version_id: str
    latest_model_used: str
    created_at: str
    last_used: str
    versions: list[str]
    metadata: dict[str, Any] | None = None


class CreatePromptResponse(BaseModel):
    """``POST /v1/prompt/create``."""

    id: str
    prompt_version_id: str


class PromptVersionResult(BaseModel):
    """A legacy version; ``helicone_template`` is the template as JSON text."""

    id: str
    minor_version: int
    major_version: int
    prompt_v2: str
    model: str
    helicone_template: str
    created_at: str
    metadata: dict[str, Any]
    parent_prompt_version: str | None = None
    experiment_id: str | None = None
    updated_at: str | None = None


class PromptVersionResultCompiled(BaseModel):
    """A production version compiled with inputs."""

    id: str
    minor_version: int
    major_version: int
    prompt_v2: str
    model: str
    prompt_compiled: Any


class PromptVersionResultFilled(BaseModel):
    """A production version's template filled with inputs."""

    id: str
    minor_version: int
    major_version: int
    prompt_v2: str
    model: str
    filled_helicone_template: Any


class PromptInputRecord(BaseModel):
    """The inputs of one call (or one stored row) of a version."""

    id: str
    inputs: dict[str, Any]
    dataset_row_id: str | None = None
    source_request: str
    prompt_version: str
    created_at: str
    response_body: str | None = None
    request_body: str | None = None
    auto_prompt_inputs: list[Any]


def prompts_result(prompt: LegacyPrompt, major_version: int) -> PromptsResult:
    """A prompt as ``PromptsResult``."""
    return PromptsResult(
        id=prompt.id,
        user_defined_id=prompt.user_defined_id,
        description=prompt.description or "",
        pretty_name=prompt.pretty_name or "",
        created_at=iso(prompt.created_at),
        major_version=major_version,
        metadata=prompt.metadata,
    )


def prompt_result(
    prompt: LegacyPrompt, versions: list[PromptVersion], last_used: dt.datetime | None
) -> PromptResult:
    """A prompt with its versions as ``PromptResult`` (versions newest first)."""
    latest = versions[0] if versions else None
    return PromptResult(
        id=prompt.id,
        user_defined_id=prompt.user_defined_id,
        description=prompt.description or "",
        pretty_name=prompt.pretty_name or "",
        major_version=max((v.major_version for v in versions), default=0),
        latest_version_id=latest.id if latest else "",
        latest_model_used=latest.model if latest else "",
        created_at=iso(prompt.created_at),
        last_used=iso(last_used or prompt.created_at),
        versions=[v.id for v in versions],
        metadata=prompt.metadata,
    )


def version_result(version: PromptVersion) -> PromptVersionResult:
    """A legacy version as ``PromptVersionResult``."""
    return PromptVersionResult(
        id=version.id,
        minor_version=version.minor_version,
        major_version=version.major_version,
        prompt_v2=version.prompt_id,
        model=version.model,
        helicone_template=orjson.dumps(version.helicone_template).decode(),
        created_at=iso(version.created_at),
        metadata=version.metadata,
        parent_prompt_version=version.parent_prompt_version,
        experiment_id=version.experiment_id,
        updated_at=iso(version.updated_at),
    )


def input_record(record: InputRecord) -> PromptInputRecord:
    """An input record as ``PromptInputRecord``."""
    return PromptInputRecord(
        id=record.id,
        inputs=record.inputs,
        source_request=record.source_request or "",
        prompt_version=record.prompt_version,
        created_at=iso(record.created_at),
        request_body=record.request_body,
        response_body=record.response_body,
        auto_prompt_inputs=record.auto_prompt_inputs,
    )


class Prompt2025Out(BaseModel):
    """A 2025 prompt (Helicone's ``Prompt2025``)."""

    id: str
    name: str
    tags: list[str]
    created_at: str


class Prompt2025VersionOut(BaseModel):
    """A 2025 version (Helicone's ``Prompt2025Version``); ``s3_url`` serves its body."""

    id: str
    model: str
    prompt_id: str
    major_version: int
    minor_version: int
    commit_message: str
    environments: list[str]
    created_at: str
    s3_url: str | None = None


class Prompt2025VersionWithBody(Prompt2025VersionOut):
    """A 2025 version with its body inline (the ``/v2/prompt-2025`` queries)."""

    prompt_body: dict[str, Any]


def prompt_2025(prompt: Prompt2025) -> Prompt2025Out:
    """A 2025 prompt's shape."""
    return Prompt2025Out(
        id=prompt.id, name=prompt.name, tags=prompt.tags, created_at=iso(prompt.created_at)
    )


def version_2025(
    version: Prompt2025Version, base_url: str, include_body: bool = False
) -> Prompt2025VersionOut:
    """A 2025 version's shape; its body URL is credential-free, as Helicone's signed S3 URLs."""
    out = Prompt2025VersionOut(
        id=version.id,
        model=version.model,
        prompt_id=version.prompt_id,
        major_version=version.major_version,
        minor_version=version.minor_version,
        commit_message=version.commit_message,
        environments=version.environments,
        created_at=iso(version.created_at),
        s3_url=f"{base_url.rstrip('/')}/v1/prompt-2025/body/{version.id}/{version.body_token}",
    )
    if include_body:
        return Prompt2025VersionWithBody(**out.model_dump(), prompt_body=version.prompt_body)
    return out
