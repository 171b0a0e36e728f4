"""Response shapes of the v2 experiment routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from helioscope.api._request_shape import iso


class ExperimentV2(BaseModel):
    """One experiment."""

    id: str
    name: str
    original_prompt_version: str
    copied_original_prompt_version: str | None
    input_keys: list[str] | None
    created_at: str


class ExperimentV2Output(BaseModel):
    """One cell: the request that ran a row with a prompt version.

    ``status`` (``pending``, ``running``, ``success``, ``failed``) and ``error`` are Helioscope
    additions.
    """

    id: str
    request_id: str
    is_original: bool
    prompt_version_id: str
    created_at: str
    input_record_id: str
    status: str
    error: str | None = None


class ExperimentV2Row(BaseModel):
    """One row with its cells."""

    id: str
    inputs: dict[str, Any]
    prompt_version: str
    requests: list[ExperimentV2Output]
    auto_prompt_inputs: list[Any]


class ExtendedExperimentData(ExperimentV2):
    """An experiment with its rows."""

    rows: list[ExperimentV2Row]


class ExperimentV2PromptVersion(BaseModel):
    """A prompt version the experiment runs."""

    created_at: str | None
    experiment_id: str | None
    helicone_template: Any
    id: str
    major_version: int
    metadata: Any
    minor_version: int
    model: str | None
    organization: str
    prompt_v2: str
    soft_delete: bool | None


def experiment_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "original_prompt_version": row["original_prompt_version"] or "",
        "copied_original_prompt_version": row["copied_original_prompt_version"],
        "input_keys": row["input_keys"],
        "created_at": iso(row["created_at"]) or "",
    }


def shape_output(cell: dict[str, Any]) -> ExperimentV2Output:
    return ExperimentV2Output(
        id=cell["id"],
        request_id=cell["request_id"] or "",
        is_original=cell["is_original"],
        prompt_version_id=cell["prompt_version_id"],
        created_at=iso(cell["created_at"]) or "",
        input_record_id=cell["input_record_id"],
        status=cell["status"],
        error=cell["error"],
    )


class ExperimentId(BaseModel):
    """``{experimentId}``."""

    experimentId: str


class EvaluatorId(BaseModel):
    """``{evaluatorId}``."""

    evaluatorId: str
