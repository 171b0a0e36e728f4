"""The ``Dataset`` tag's older routes under ``/v1/experiment/dataset``: datasets of input rows.

An "experiment" dataset holds input records (a prompt's inputs, and the request they came
from); experiments import their rows from it. A "helicone" dataset holds logged requests.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
from fastapi import APIRouter
from pydantic import BaseModel, Field

from helioscope.api._fields import Offset, TextMap
from helioscope.api._request_shape import _body, iso
from helioscope.api.dataset.helicone_dataset import DatasetId, DatasetMetadata, MutateParams
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.store import MAX_PAGE, RequestQuery, Store
from helioscope.store.experiments import datasets
from helioscope.store.log import requests

reads = APIRouter(prefix="/v1/experiment/dataset", tags=["Dataset"], responses=ERROR_RESPONSES)
writes = APIRouter(prefix="/v1/experiment/dataset", tags=["Dataset"], responses=ERROR_RESPONSES)


class NewDatasetParams(BaseModel):
    """Body of ``POST /v1/experiment/dataset``."""

    datasetName: str = Field(min_length=1, max_length=400)
    requestIds: list[str] = Field(max_length=MAX_PAGE * 10)
    datasetType: Literal["experiment", "helicone"]
    meta: DatasetMetadata | None = None


class RandomDatasetParams(BaseModel):
    """Body of ``POST /v1/experiment/dataset/random``: requests picked at random by filter."""

    datasetName: str = Field(min_length=1, max_length=400)
    filter: Any
    offset: Offset = 0
    limit: int = Field(10, ge=1, le=MAX_PAGE)


class DatasetsByPrompt(BaseModel):
    """Body of ``POST /v1/experiment/dataset/query``."""

    promptVersionId: str | None = None


class InsertRow(BaseModel):
    """Body of ``POST /v1/experiment/dataset/{datasetId}/row/insert``."""

    inputs: TextMap
    inputRecordId: str = Field(min_length=1, max_length=36)
    originalColumnId: str | None = None


class NewRow(BaseModel):
    """Body of ``POST …/version/{promptVersionId}/row/new``."""

    inputs: dict[str, str]
    sourceRequest: str | None = None


class DatasetResult(BaseModel):
    """One experiment dataset."""

    id: str
    name: str
    created_at: str
    meta: dict[str, Any] | None = Field(None, exclude_if=lambda v: v is None)


class PromptInputRecord(BaseModel):
    """One row of an experiment dataset."""

    id: str
    inputs: dict[str, Any]
    dataset_row_id: str | None = Field(None, exclude_if=lambda v: v is None)
    source_request: str
    prompt_version: str
    created_at: str
    # Helicone types the bodies as strings: the JSON text of the source request's bodies.
    response_body: str | None = Field(None, exclude_if=lambda v: v is None)
    request_body: str | None = Field(None, exclude_if=lambda v: v is None)
    auto_prompt_inputs: list[Any]


def _json_text(body: Any) -> str | None:
    if body is None:
        return None
    return body if isinstance(body, str) else orjson.dumps(body).decode()


async def records_from_requests(
    store: Store, org_id: str, request_ids: list[str], prompt_version_id: str | None
) -> list[dict[str, Any]]:
    """Input records made from logged requests: their prompt inputs and prompt version."""
    rows = (
        await store.log.org(org_id).read(requests.requests_by_ids, request_ids)
        if request_ids
        else []
    )
    return [
        {
            "inputs": dict(row.get("prompt_inputs") or {}),
            "source_request": row["request_id"],
            "prompt_version_id": prompt_version_id or row.get("prompt_version"),
        }
        for row in rows
    ]


async def _new_dataset(
    store: Store, org_id: str, name: str, request_ids: list[str], meta: dict[str, Any] | None
) -> str:
    version = (meta or {}).get("promptVersionId")
    dataset_id = await store.org(org_id).write(
        datasets.create_dataset, name, [], meta, dataset_type="experiment"
    )
    records = await records_from_requests(store, org_id, request_ids, version)
    await store.org(org_id).write(datasets.add_input_records, dataset_id, records)
    return dataset_id


@writes.post("", response_model=Result[DatasetId])
async def add_dataset(body: NewDatasetParams, key: ApiKeyDep, store: StoreDep) -> Result[DatasetId]:
    """Create a dataset from logged requests, of either type."""
    org = key.organization_id
    meta = body.meta.model_dump(exclude_none=True) if body.meta else None
    if body.datasetType == "helicone":
        dataset_id = await store.org(org).write(
            datasets.create_dataset, body.datasetName, body.requestIds, meta
        )
    else:
        dataset_id = await _new_dataset(store, org, body.datasetName, body.requestIds, meta)
    return Result(data=DatasetId(datasetId=dataset_id))


@writes.post("/random", response_model=Result[DatasetId])
async def add_random_dataset(
    body: RandomDatasetParams, key: ApiKeyDep, store: StoreDep
) -> Result[DatasetId]:
    """Create an experiment dataset from requests matching a filter, picked at random."""
    query = RequestQuery(
        filter=body.filter,
        offset=body.offset,
        limit=body.limit,
        sort={"random": True},
        include_bodies=False,
    )
    rows = await store.log.org(key.organization_id).read(requests.query_requests, query)
    ids = [r["request_id"] for r in rows]
    dataset_id = await _new_dataset(store, key.organization_id, body.datasetName, ids, None)
    return Result(data=DatasetId(datasetId=dataset_id))


@reads.post("/query", response_model=Result[list[DatasetResult]])
async def get_datasets(
    body: DatasetsByPrompt, key: ApiKeyDep, store: StoreDep
) -> Result[list[DatasetResult]]:
    """Experiment datasets (those made for one prompt version, if given)."""
    rows = await store.org(key.organization_id).read(
        datasets.list_datasets, dataset_type="experiment"
    )
    if body.promptVersionId is not None:
        rows = [r for r in rows if (r["meta"] or {}).get("promptVersionId") == body.promptVersionId]
    return Result(
        data=[
            DatasetResult(
                id=r["id"],
                name=r["name"] or "",
                created_at=iso(r["created_at"]) or "",
                meta=r["meta"],
            )
            for r in rows
        ]
    )


@writes.post("/{datasetId}/row/insert", response_model=Result[str])
async def insert_dataset_row(
    datasetId: str, body: InsertRow, key: ApiKeyDep, store: StoreDep
) -> Result[str]:
    """Add an input record (an existing one by id, or a new one with these inputs)."""
    record = {"id": body.inputRecordId, "inputs": body.inputs}
    ids = await store.org(key.organization_id).write(
        datasets.add_input_records, datasetId, [record]
    )
    return Result(data=ids[0])


@writes.post("/{datasetId}/version/{promptVersionId}/row/new", response_model=Result[str])
async def create_dataset_row(
    datasetId: str, promptVersionId: str, body: NewRow, key: ApiKeyDep, store: StoreDep
) -> Result[str]:
    """Add a new input record for a prompt version."""
    record = {
        "inputs": body.inputs,
        "prompt_version_id": promptVersionId,
        "source_request": body.sourceRequest,
    }
    ids = await store.org(key.organization_id).write(
        datasets.add_input_records, datasetId, [record]
    )
    return Result(data=ids[0])


@reads.post("/{datasetId}/inputs/query", response_model=Result[list[PromptInputRecord]])
async def get_dataset(
    datasetId: str, key: ApiKeyDep, store: StoreDep
) -> Result[list[PromptInputRecord]]:
    """An experiment dataset's rows, with the bodies of the requests they came from."""
    rows = await store.org(key.organization_id).read(datasets.input_records, datasetId)
    return Result(
        data=[
            PromptInputRecord(
                id=r["id"],
                inputs=r["inputs"] or {},
                dataset_row_id=r["dataset_row_id"],
                source_request=r["source_request"] or "",
                prompt_version=r["prompt_version_id"] or "",
                created_at=iso(r["created_at"]) or "",
                request_body=_json_text(_body(r["request_body"])),
                response_body=_json_text(_body(r["response_body"])),
                auto_prompt_inputs=r["auto_prompt_inputs"] or [],
            )
            for r in rows
        ]
    )


@writes.post("/{datasetId}/mutate", response_model=Result[list[Any]])
async def mutate_dataset(
    datasetId: str, body: MutateParams, key: ApiKeyDep, store: StoreDep
) -> Result[list[Any]]:
    """Add and remove rows by the requests they come from."""
    org = key.organization_id
    found = await store.org(org).read(datasets.list_datasets, [datasetId])
    if found and found[0]["dataset_type"] == "helicone":
        await store.org(org).write(
            datasets.mutate, datasetId, body.addRequests, body.removeRequests
        )
        return Result(data=[])
    await store.org(org).write(datasets.remove_sources, datasetId, body.removeRequests)
    version = ((found[0]["meta"] if found else None) or {}).get("promptVersionId")
    records = await records_from_requests(store, org, body.addRequests, version)
    await store.org(org).write(datasets.add_input_records, datasetId, records)
    return Result(data=[])
