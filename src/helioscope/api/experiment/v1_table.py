"""The ``Experiment`` tag's table routes: the older API's grid of input and output cells."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter
from pydantic import BaseModel, Field

from helioscope.api._fields import Count, IntPath, Json, JsonObject, TextMap
from helioscope.api._request_shape import iso
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.errors import BadRequest
from helioscope.experiments import legacy
from helioscope.store import MAX_PAGE, Store
from helioscope.store.experiments import experiment_tables, experiments
from helioscope.store.prompts import legacy_prompts

reads = APIRouter(prefix="/v1/experiment", tags=["Experiment"], responses=ERROR_RESPONSES)
writes = APIRouter(prefix="/v1/experiment", tags=["Experiment"], responses=ERROR_RESPONSES)


class CreateExperimentTableParams(BaseModel):
    """Body of ``POST /v1/experiment/table/new``."""

    datasetId: str
    experimentMetadata: JsonObject
    promptVersionId: str
    newHeliconeTemplate: str
    isMajorVersion: bool
    promptSubversionMetadata: JsonObject
    experimentTableMetadata: JsonObject | None = None


class TableCreated(BaseModel):
    """The new table and its experiment."""

    tableId: str
    experimentId: str


class Cell(BaseModel):
    """One cell of a column."""

    id: str
    rowIndex: int
    value: str | None
    requestId: str | None = Field(None, exclude_if=lambda v: v is None)
    metadata: dict[str, Any] | None = Field(None, exclude_if=lambda v: v is None)


class Column(BaseModel):
    """A column with its cells."""

    id: str
    columnName: str
    columnType: str
    hypothesisId: str | None = Field(None, exclude_if=lambda v: v is None)
    cells: list[Cell]
    metadata: dict[str, Any] | None = Field(None, exclude_if=lambda v: v is None)


class ExperimentTable(BaseModel):
    """A table with every column and cell."""

    id: str
    name: str
    experimentId: str
    columns: list[Column]
    metadata: dict[str, Any] | None = Field(None, exclude_if=lambda v: v is None)


class ColumnHeader(BaseModel):
    """A column without its cells."""

    id: str
    columnName: str
    columnType: str


class ExperimentTableSimplified(BaseModel):
    """A table's metadata and column headers."""

    id: str
    name: str
    experimentId: str
    createdAt: str
    metadata: dict[str, Any] | None = Field(None, exclude_if=lambda v: v is None)
    columns: list[ColumnHeader]


class NewCell(BaseModel):
    """Body of ``POST …/cell``."""

    columnId: str
    rowIndex: Count
    value: str | None


class CellUpdate(BaseModel):
    """Body of ``PATCH …/cell`` (``metadata`` is JSON text)."""

    cellId: str
    value: str | None = None
    status: str | None = Field(None, max_length=20)
    metadata: str | None = None
    updateInputs: bool | None = None


class NewColumn(BaseModel):
    """Body of ``POST …/column``."""

    columnName: str = Field(min_length=1, max_length=400)
    columnType: str = Field(min_length=1, max_length=100)
    hypothesisId: str | None = Field(None, exclude_if=lambda v: v is None)
    promptVersionId: str | None = None
    inputKeys: list[str] | None = None


class NewRow(BaseModel):
    """Body of ``POST …/row/new``."""

    promptVersionId: str
    inputs: TextMap | None = None
    sourceRequest: str | None = None


class BatchCell(BaseModel):
    """A cell of a batch row."""

    columnId: str
    value: str | None
    metadata: Json = None


class BatchRow(BaseModel):
    """A row of ``row/insert/batch``."""

    inputRecordId: str
    inputs: TextMap
    datasetId: str
    cells: list[BatchCell]
    sourceRequest: str | None = None


class BatchRows(BaseModel):
    """Body of ``row/insert/batch``."""

    rows: list[BatchRow] = Field(max_length=MAX_PAGE)


def _simplified(table: dict[str, Any]) -> ExperimentTableSimplified:
    return ExperimentTableSimplified(
        id=table["id"],
        name=table["name"],
        experimentId=table["experiment_id"],
        createdAt=iso(table["created_at"]) or "",
        metadata=table["metadata"],
        columns=[
            ColumnHeader(id=c["id"], columnName=c["column_name"], columnType=c["column_type"])
            for c in table["columns"]
        ],
    )


async def _add_row(
    store: Store, org_id: str, table_id: str, record_id: str, cells: list[dict[str, Any]]
) -> None:
    index = await store.org(org_id).read(experiment_tables.next_row, table_id)
    await store.org(org_id).write(
        experiment_tables.put_cells,
        table_id,
        [{**c, "row_index": index, "metadata": {"inputRecordId": record_id}} for c in cells],
    )


@writes.post("/table/new", response_model=Result[TableCreated])
async def create_new_experiment_table(
    body: CreateExperimentTableParams, key: ApiKeyDep, store: StoreDep
) -> Result[TableCreated]:
    """An experiment over a dataset, a new prompt version from the template, and its table."""
    table_id, experiment_id = await legacy.table_experiment(
        store, key.organization_id, body.model_dump()
    )
    return Result(data=TableCreated(tableId=table_id, experimentId=experiment_id))


@reads.post("/table/{experimentTableId}/query", response_model=Result[ExperimentTable])
async def get_experiment_table_by_id(
    experimentTableId: str, key: ApiKeyDep, store: StoreDep
) -> Result[ExperimentTable]:
    """A table with its columns and cells."""
    table = await store.org(key.organization_id).read(
        experiment_tables.get_table, experimentTableId
    )
    columns = [
        Column(
            id=c["id"],
            columnName=c["column_name"],
            columnType=c["column_type"],
            hypothesisId=c["hypothesis_id"],
            metadata=c["metadata"],
            cells=[
                Cell(
                    id=x["id"],
                    rowIndex=x["row_index"],
                    value=x["value"],
                    requestId=x["request_id"],
                    metadata=x["metadata"],
                )
                for x in c["cells"]
            ],
        )
        for c in table["columns"]
    ]
    return Result(
        data=ExperimentTable(
            id=table["id"],
            name=table["name"],
            experimentId=table["experiment_id"],
            columns=columns,
            metadata=table["metadata"],
        )
    )


@reads.post(
    "/table/{experimentTableId}/metadata/query", response_model=Result[ExperimentTableSimplified]
)
async def get_experiment_table_metadata(
    experimentTableId: str, key: ApiKeyDep, store: StoreDep
) -> Result[ExperimentTableSimplified]:
    """A table's metadata and column headers."""
    table = await store.org(key.organization_id).read(
        experiment_tables.get_table, experimentTableId
    )
    return Result(data=_simplified(table))


@reads.post("/tables/query", response_model=Result[list[ExperimentTableSimplified]])
async def get_experiment_tables(
    key: ApiKeyDep, store: StoreDep
) -> Result[list[ExperimentTableSimplified]]:
    """Every table of the organization."""
    tables = await store.org(key.organization_id).read(experiment_tables.list_tables)
    return Result(data=[_simplified(t) for t in tables])


@writes.post("/table/{experimentTableId}/cell", response_model=Result[None])
async def create_experiment_cell(
    experimentTableId: str, body: NewCell, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Create (or replace) the cell at a column and row."""
    cell = {"column_id": body.columnId, "row_index": body.rowIndex, "value": body.value}
    await store.org(key.organization_id).write(
        experiment_tables.put_cells, experimentTableId, [cell]
    )
    return Result(data=None)


@writes.patch("/table/{experimentTableId}/cell", response_model=Result[None])
async def update_experiment_cell(
    experimentTableId: str, body: CellUpdate, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Change a cell's value, status or metadata."""
    fields: dict[str, Any] = {
        k: v for k, v in (("value", body.value), ("status", body.status)) if v is not None
    }
    if body.metadata is not None:
        try:
            fields["metadata"] = orjson.loads(body.metadata)
        except orjson.JSONDecodeError:
            raise BadRequest("metadata must be JSON text") from None
    if not fields:
        raise BadRequest("nothing to update: give value, status or metadata")
    await store.org(key.organization_id).write(
        experiment_tables.update_cell, experimentTableId, body.cellId, **fields
    )
    return Result(data=None)


@writes.post("/table/{experimentTableId}/column", response_model=Result[None])
async def create_experiment_column(
    experimentTableId: str, body: NewColumn, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Add a column after the last one."""
    await store.org(key.organization_id).write(
        experiment_tables.add_column,
        experimentTableId,
        column_name=body.columnName,
        column_type=body.columnType,
        hypothesis_id=body.hypothesisId,
        prompt_version_id=body.promptVersionId,
        input_keys=body.inputKeys,
    )
    return Result(data=None)


@writes.post("/table/{experimentTableId}/row/new", response_model=Result[None])
async def create_experiment_table_row(
    experimentTableId: str, body: NewRow, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Add a row: an experiment row of inputs, and its values in the input columns."""
    org = key.organization_id
    table = await store.org(org).read(experiment_tables.get_table, experimentTableId)
    await store.prompts.org(org).read(legacy_prompts.must_get_version, body.promptVersionId)
    inputs = body.inputs or {}
    row = {"inputs": inputs, "source_request": body.sourceRequest}
    (record_id,) = await store.org(org).write(experiments.add_rows, table["experiment_id"], [row])
    cells = [
        {"column_id": c["id"], "value": inputs.get(c["column_name"], "")}
        for c in table["columns"]
        if c["column_type"] == "input"
    ]
    await _add_row(store, org, experimentTableId, record_id, cells)
    return Result(data=None)


@writes.delete("/table/{experimentTableId}/row/{rowIndex}", response_model=Result[None])
async def delete_experiment_table_row(
    experimentTableId: str, rowIndex: IntPath, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Delete a row's cells."""
    await store.org(key.organization_id).write(
        experiment_tables.delete_row, experimentTableId, rowIndex
    )
    return Result(data=None)


@writes.post("/table/{experimentTableId}/row/insert/batch", response_model=Result[None])
async def create_experiment_table_row_with_cells_batch(
    experimentTableId: str, body: BatchRows, key: ApiKeyDep, store: StoreDep
) -> Result[None]:
    """Add rows with their cells."""
    org = key.organization_id
    table = await store.org(org).read(experiment_tables.get_table, experimentTableId)
    for row in body.rows:
        (record_id,) = await store.org(org).write(
            experiments.add_rows,
            table["experiment_id"],
            [{"inputs": row.inputs, "source_request": row.sourceRequest}],
        )
        cells = [{"column_id": c.columnId, "value": c.value} for c in row.cells]
        await _add_row(store, org, experimentTableId, record_id, cells)
    return Result(data=None)
