"""The ``Dataset`` tag: Helicone datasets of logged requests, and experiment datasets of inputs."""

from __future__ import annotations

import base64
from typing import Any, Literal

import orjson
from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from helioscope.api._fields import Number, Offset
from helioscope.api._request_shape import _body, iso
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.store import MAX_PAGE, Store
from helioscope.store.experiments import datasets

reads = APIRouter(tags=["Dataset"], responses=ERROR_RESPONSES)
writes = APIRouter(tags=["Dataset"], responses=ERROR_RESPONSES)

Ids = list[str]


class DatasetMetadata(BaseModel):
    """Helicone's ``HeliconeDatasetMetadata``."""

    promptVersionId: str | None = None
    inputRecordsIds: list[str] | None = None


class NewHeliconeDatasetParams(BaseModel):
    """Body of ``POST /v1/helicone-dataset``."""

    datasetName: str = Field(min_length=1, max_length=400)
    requestIds: Ids = Field(max_length=MAX_PAGE * 10)
    meta: DatasetMetadata | None = None


class MutateParams(BaseModel):
    """Requests to add (by request id); rows to remove (by row id, as Helicone, or request id)."""

    addRequests: Ids = Field(max_length=MAX_PAGE * 10)
    removeRequests: Ids = Field(max_length=MAX_PAGE * 10)


class RowsQuery(BaseModel):
    """Body of ``POST /v1/helicone-dataset/{datasetId}/query``."""

    offset: Offset
    limit: int = Field(ge=1, le=MAX_PAGE)


class DatasetsQuery(BaseModel):
    """Body of ``POST /v1/helicone-dataset/query``."""

    datasetIds: Ids | None = None


class EditedBodies(BaseModel):
    """Body of ``POST /v1/helicone-dataset/{datasetId}/request/{requestId}``."""

    requestBody: Any
    responseBody: Any


class DatasetId(BaseModel):
    """``{datasetId}``."""

    datasetId: str


class HeliconeDataset(BaseModel):
    """One dataset, as Helicone lists it."""

    created_at: str | None
    dataset_type: str
    id: str
    meta: Any
    name: str | None
    organization: str
    requests_count: Number


class SignedUrl(BaseModel):
    """``Result<string>``: where the row's bodies can be read."""

    data: str | None
    error: str | None = None


class HeliconeDatasetRow(BaseModel):
    """One row: the origin request, its bodies behind ``signed_url`` (as Helicone shapes it)."""

    id: str
    origin_request_id: str
    dataset_id: str
    created_at: str
    signed_url: SignedUrl


class DatasetRowWithBodies(HeliconeDatasetRow):
    """Helioscope's UI's row: Helicone's, with the bodies inline."""

    request_body: Any = None
    response_body: Any = None


def shape_dataset(row: dict[str, Any]) -> HeliconeDataset:
    """A stored dataset as Helicone's ``HeliconeDataset``."""
    return HeliconeDataset(
        created_at=iso(row["created_at"]),
        dataset_type=row["dataset_type"],
        id=row["id"],
        meta=row["meta"],
        name=row["name"],
        organization=row["organization_id"],
        requests_count=row["requests_count"],
    )


def _data_url(request: Any, response: Any) -> str:
    # No object store: the "signed URL" is a data: URL holding the same {request, response}
    # document Helicone keeps in S3, so a client that fetches it reads the bodies.
    doc = orjson.dumps({"request": request, "response": response})
    return "data:application/json;base64," + base64.b64encode(doc).decode()


def shape_row(row: dict[str, Any]) -> DatasetRowWithBodies:
    """A stored row with its bodies (Helicone's route drops the inline ones)."""
    request, response = _body(row["request_body"]), _body(row["response_body"])
    return DatasetRowWithBodies(
        id=row["id"],
        origin_request_id=row["origin_request_id"],
        dataset_id=row["dataset_id"],
        created_at=iso(row["created_at"]) or "",
        signed_url=SignedUrl(data=_data_url(request, response)),
        request_body=request,
        response_body=response,
    )


@writes.post("/v1/helicone-dataset", response_model=Result[DatasetId])
async def add_helicone_dataset(
    body: NewHeliconeDatasetParams, key: ApiKeyDep, store: StoreDep
) -> Result[DatasetId]:
    """Create a dataset from logged requests (every id must be a request of yours)."""
    meta = body.meta.model_dump(exclude_none=True) if body.meta else None
    dataset_id = await store.org(key.organization_id).write(
        datasets.create_dataset, body.datasetName, body.requestIds, meta
    )
    return Result(data=DatasetId(datasetId=dataset_id))


@reads.post("/v1/helicone-dataset/query", response_model=Result[list[HeliconeDataset]])
async def query_helicone_dataset(
    body: DatasetsQuery, key: ApiKeyDep, store: StoreDep
) -> Result[list[HeliconeDataset]]:
    """List your datasets (all, or those with the given ids)."""
    rows = await store.org(key.organization_id).read(datasets.list_datasets, body.datasetIds)
    return Result(data=[shape_dataset(r) for r in rows])


@writes.post("/v1/helicone-dataset/{datasetId}/mutate", response_model=Result[None])
async def mutate_helicone_dataset(
    datasetId: str, body: MutateParams, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Add and remove requests."""
    await store.org(key.organization_id).write(
        datasets.mutate, datasetId, body.addRequests, body.removeRequests
    )
    return Result(data=None)


@reads.post(
    "/v1/helicone-dataset/{datasetId}/query", response_model=Result[list[HeliconeDatasetRow]]
)
async def query_helicone_dataset_rows(
    datasetId: str, body: RowsQuery, key: ApiKeyDep, store: StoreDep
) -> Result[list[HeliconeDatasetRow]]:
    """A page of rows (their bodies behind each row's ``signed_url``)."""
    rows = await dataset_rows(datasetId, body, key.organization_id, store)
    return Result(data=[HeliconeDatasetRow(**r.model_dump(exclude=_BODIES)) for r in rows])


_BODIES = {"request_body", "response_body"}


async def dataset_rows(
    dataset_id: str, page: RowsQuery, org: str, store: Store
) -> list[DatasetRowWithBodies]:
    """A page of a dataset's rows with their bodies inline."""
    rows = await store.org(org).read(datasets.dataset_rows, dataset_id, page.offset, page.limit)
    return [shape_row(r) for r in rows]


@reads.post("/v1/helicone-dataset/{datasetId}/count", response_model=Result[int])
async def count_helicone_dataset_rows(
    datasetId: str, key: ApiKeyDep, store: StoreDep
) -> Result[int]:
    """How many rows a dataset has."""
    return Result(data=await store.org(key.organization_id).read(datasets.count, datasetId))


@writes.post("/v1/helicone-dataset/{datasetId}/request/{requestId}", response_model=Result[None])
async def update_helicone_dataset_request(
    datasetId: str, requestId: str, body: EditedBodies, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Keep edited bodies for one row (the logged request itself is not changed).

    The row is named by its own id, as Helicone names it, or by its logged request's id.
    """
    await store.org(key.organization_id).write(
        datasets.edit_row,
        datasetId,
        requestId,
        orjson.dumps(body.requestBody).decode(),
        orjson.dumps(body.responseBody).decode(),
    )
    return Result(data=None)


@writes.post("/v1/helicone-dataset/{datasetId}/delete", response_model=Result[None])
async def delete_helicone_dataset(datasetId: str, key: ApiKeyDep, store: StoreDep) -> Result[None]:
    """Delete a dataset."""
    await store.org(key.organization_id).write(datasets.delete_dataset, datasetId)
    return Result(data=None)


def _jsonl_line(row: dict[str, Any], fmt: str) -> bytes:
    request, response = _body(row["request_body"]), _body(row["response_body"])
    if fmt == "chat" and isinstance(request, dict) and isinstance(request.get("messages"), list):
        messages = list(request["messages"])
        choices = response.get("choices") if isinstance(response, dict) else None
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            message = choices[0].get("message")
            if isinstance(message, dict):
                messages.append(
                    {"role": "assistant", "content": message.get("content")}
                    | ({"tool_calls": message["tool_calls"]} if message.get("tool_calls") else {})
                )
        line: dict[str, Any] = {"messages": messages}
        if request.get("tools"):
            line["tools"] = request["tools"]
    else:
        line = {"request_id": row["origin_request_id"], "request": request, "response": response}
    return orjson.dumps(line) + b"\n"


@reads.get("/v1/helicone-dataset/{datasetId}/export", response_class=StreamingResponse)
async def export_helicone_dataset(
    datasetId: str, key: ApiKeyDep, store: StoreDep, format: Literal["chat", "raw"] = "chat"
) -> StreamingResponse:
    """Every row as JSON Lines (a Helioscope addition).

    ``format=chat`` (the default) writes chat fine-tuning lines, ``{"messages": [...]}`` with the
    response as the last assistant message; ``format=raw`` writes ``{request_id, request,
    response}``.
    """
    org = key.organization_id
    first = await store.org(org).read(
        datasets.dataset_rows, datasetId, 0, MAX_PAGE
    )  # 404 before streaming

    async def lines() -> Any:
        page, offset = first, 0
        while page:
            for row in page:
                yield _jsonl_line(row, format)
            offset += len(page)
            page = (
                await store.org(org).read(datasets.dataset_rows, datasetId, offset, MAX_PAGE)
                if len(page) == MAX_PAGE
                else []
            )

    return StreamingResponse(
        lines(),
        media_type="application/jsonl",
        headers={"content-disposition": f'attachment; filename="dataset-{datasetId}.jsonl"'},
    )
