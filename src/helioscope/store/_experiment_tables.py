"""The older experiment-table API's grid: a table per experiment, columns, and cells by row."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from helioscope.errors import NotFound
from helioscope.store._dialects import upsert
from helioscope.store._schema_experiments import experiment_cell as cell_t
from helioscope.store._schema_experiments import experiment_column as col_t
from helioscope.store._schema_experiments import experiment_table as table_t


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _table(conn: AsyncConnection, org_id: str, table_id: str) -> dict[str, Any]:
    stmt = select(table_t).where(table_t.c.organization_id == org_id, table_t.c.id == table_id)
    found = (await conn.execute(stmt)).mappings().first()
    if found is None:
        raise NotFound(f"experiment table {table_id} not found")
    return dict(found)


async def _column(conn: AsyncConnection, table_id: str, column_id: str) -> None:
    stmt = select(col_t.c.id).where(col_t.c.table_id == table_id, col_t.c.id == column_id)
    if (await conn.execute(stmt)).first() is None:
        raise NotFound(f"column {column_id} not found in table {table_id}")


class ExperimentTableStore:
    """Tables, columns and cells (``store.experiment_tables``)."""

    def __init__(self, engine: AsyncEngine, writer_engine: AsyncEngine) -> None:
        self._read = engine
        self._write = writer_engine

    async def create(
        self, org_id: str, experiment_id: str, name: str, metadata: dict[str, Any] | None
    ) -> str:
        """A new empty table for an experiment."""
        table_id = str(uuid.uuid4())
        async with self._write.begin() as conn:
            await conn.execute(
                table_t.insert().values(
                    id=table_id,
                    organization_id=org_id,
                    experiment_id=experiment_id,
                    name=name,
                    metadata=metadata,
                    created_at=_now(),
                )
            )
        return table_id

    async def get(self, org_id: str, table_id: str) -> dict[str, Any]:
        """A table with its columns, each with its cells in row order."""
        async with self._read.connect() as conn:
            table = await _table(conn, org_id, table_id)
            columns = [
                dict(c)
                for c in (
                    await conn.execute(
                        select(col_t).where(col_t.c.table_id == table_id).order_by(col_t.c.position)
                    )
                ).mappings()
            ]
            cells = (
                await conn.execute(
                    select(cell_t)
                    .where(cell_t.c.column_id.in_([c["id"] for c in columns]))
                    .order_by(cell_t.c.row_index)
                )
            ).mappings()
            by_column: dict[str, list[dict[str, Any]]] = {c["id"]: [] for c in columns}
            for cell in cells:
                by_column[cell["column_id"]].append(dict(cell))
        for column in columns:
            column["cells"] = by_column[column["id"]]
        return {**table, "columns": columns}

    async def list_tables(self, org_id: str) -> list[dict[str, Any]]:
        """The organization's tables with their columns (no cells), newest first."""
        async with self._read.connect() as conn:
            tables = [
                dict(t)
                for t in (
                    await conn.execute(
                        select(table_t)
                        .where(table_t.c.organization_id == org_id)
                        .order_by(table_t.c.created_at.desc())
                    )
                ).mappings()
            ]
            columns = (
                await conn.execute(
                    select(col_t)
                    .where(col_t.c.organization_id == org_id)
                    .order_by(col_t.c.position)
                )
            ).mappings()
            by_table: dict[str, list[dict[str, Any]]] = {t["id"]: [] for t in tables}
            for column in columns:
                by_table.setdefault(column["table_id"], []).append(dict(column))
        return [{**t, "columns": by_table[t["id"]]} for t in tables]

    async def add_column(self, org_id: str, table_id: str, **fields: Any) -> str:
        """A column after the last one (``column_name``, ``column_type``, links)."""
        column_id = str(uuid.uuid4())
        async with self._write.begin() as conn:
            await _table(conn, org_id, table_id)
            last = await conn.execute(
                select(func.max(col_t.c.position)).where(col_t.c.table_id == table_id)
            )
            position = (last.scalar() or 0) + 1
            await conn.execute(
                col_t.insert().values(
                    id=column_id,
                    organization_id=org_id,
                    table_id=table_id,
                    position=position,
                    created_at=_now(),
                    **fields,
                )
            )
        return column_id

    async def next_row(self, org_id: str, table_id: str) -> int:
        """The index a new row gets (one past the highest used)."""
        async with self._read.connect() as conn:
            await _table(conn, org_id, table_id)
            stmt = (
                select(func.max(cell_t.c.row_index))
                .select_from(cell_t.join(col_t, col_t.c.id == cell_t.c.column_id))
                .where(col_t.c.table_id == table_id)
            )
            last = (await conn.execute(stmt)).scalar()
        return 0 if last is None else int(last) + 1

    async def put_cells(self, org_id: str, table_id: str, cells: Sequence[dict[str, Any]]) -> None:
        """Create or replace cells, each ``{column_id, row_index, value, …}``."""
        async with self._write.begin() as conn:
            await _table(conn, org_id, table_id)
            for column_id in {c["column_id"] for c in cells}:
                await _column(conn, table_id, column_id)
            rows = [
                {
                    "id": str(uuid.uuid4()),
                    "organization_id": org_id,
                    "request_id": None,
                    "status": None,
                    "metadata": None,
                    "created_at": _now(),
                    **cell,
                }
                for cell in cells
            ]
            if rows:
                await conn.execute(
                    upsert(cell_t, conn.dialect.name, ("column_id", "row_index")), rows
                )

    async def update_cell(self, org_id: str, table_id: str, cell_id: str, **fields: Any) -> None:
        """Change a cell's value, status or metadata."""
        async with self._write.begin() as conn:
            await _table(conn, org_id, table_id)
            result = await conn.execute(
                update(cell_t)
                .where(
                    cell_t.c.organization_id == org_id,
                    cell_t.c.id == cell_id,
                    cell_t.c.column_id.in_(select(col_t.c.id).where(col_t.c.table_id == table_id)),
                )
                .values(**fields)
            )
            if result.rowcount == 0:
                raise NotFound(f"cell {cell_id} not found in table {table_id}")

    async def delete_row(self, org_id: str, table_id: str, row_index: int) -> None:
        """Delete every cell of a row."""
        async with self._write.begin() as conn:
            await _table(conn, org_id, table_id)
            await conn.execute(
                delete(cell_t).where(
                    cell_t.c.row_index == row_index,
                    cell_t.c.column_id.in_(select(col_t.c.id).where(col_t.c.table_id == table_id)),
                )
            )
