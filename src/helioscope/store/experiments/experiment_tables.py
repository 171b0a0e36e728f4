"""The older experiment-table API's grid: a table per experiment, columns, and cells by row."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select, update

from helioscope.errors import NotFound
from helioscope.store._runner import OrgDb
from helioscope.store.tables.experiments import experiment_cell as cell_t
from helioscope.store.tables.experiments import experiment_column as col_t
from helioscope.store.tables.experiments import experiment_table as table_t


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _table(db: OrgDb, table_id: str) -> dict[str, Any]:
    found = await db.row(select(table_t).where(db.in_org(table_t), table_t.c.id == table_id))
    if found is None:
        raise NotFound(f"experiment table {table_id} not found")
    return found


async def _column(db: OrgDb, table_id: str, column_id: str) -> None:
    stmt = select(col_t.c.id).where(col_t.c.table_id == table_id, col_t.c.id == column_id)
    if await db.row(stmt) is None:
        raise NotFound(f"column {column_id} not found in table {table_id}")


def _columns_of(table_id: str) -> Any:
    return select(col_t.c.id).where(col_t.c.table_id == table_id)


async def create_table(
    db: OrgDb, experiment_id: str, name: str, metadata: dict[str, Any] | None
) -> str:
    """A new empty table for an experiment."""
    table_id = str(uuid.uuid4())
    await db.execute(
        table_t.insert().values(
            id=table_id,
            organization_id=db.org_id,
            experiment_id=experiment_id,
            name=name,
            metadata=metadata,
            created_at=_now(),
        )
    )
    return table_id


async def get_table(db: OrgDb, table_id: str) -> dict[str, Any]:
    """A table with its columns, each with its cells in row order."""
    table = await _table(db, table_id)
    columns = await db.rows(
        select(col_t).where(col_t.c.table_id == table_id).order_by(col_t.c.position)
    )
    cells = await db.rows(
        select(cell_t)
        .where(cell_t.c.column_id.in_([c["id"] for c in columns]))
        .order_by(cell_t.c.row_index)
    )
    by_column: dict[str, list[dict[str, Any]]] = {c["id"]: [] for c in columns}
    for cell in cells:
        by_column[cell["column_id"]].append(cell)
    for column in columns:
        column["cells"] = by_column[column["id"]]
    return {**table, "columns": columns}


async def list_tables(db: OrgDb) -> list[dict[str, Any]]:
    """The organization's tables with their columns (no cells), newest first."""
    tables = await db.rows(
        select(table_t).where(db.in_org(table_t)).order_by(table_t.c.created_at.desc())
    )
    columns = await db.rows(select(col_t).where(db.in_org(col_t)).order_by(col_t.c.position))
    by_table: dict[str, list[dict[str, Any]]] = {t["id"]: [] for t in tables}
    for column in columns:
        by_table.setdefault(column["table_id"], []).append(column)
    return [{**t, "columns": by_table[t["id"]]} for t in tables]


async def add_column(db: OrgDb, /, table_id: str, **fields: Any) -> str:
    """A column after the last one (``column_name``, ``column_type``, links)."""
    column_id = str(uuid.uuid4())
    await _table(db, table_id)
    last = await db.scalar(select(func.max(col_t.c.position)).where(col_t.c.table_id == table_id))
    await db.execute(
        col_t.insert().values(
            id=column_id,
            organization_id=db.org_id,
            table_id=table_id,
            position=(last or 0) + 1,
            created_at=_now(),
            **fields,
        )
    )
    return column_id


async def next_row(db: OrgDb, table_id: str) -> int:
    """The index a new row gets (one past the highest used)."""
    await _table(db, table_id)
    stmt = (
        select(func.max(cell_t.c.row_index))
        .select_from(cell_t.join(col_t, col_t.c.id == cell_t.c.column_id))
        .where(col_t.c.table_id == table_id)
    )
    last = await db.scalar(stmt)
    return 0 if last is None else int(last) + 1


async def put_cells(db: OrgDb, table_id: str, cells: Sequence[dict[str, Any]]) -> None:
    """Create or replace cells, each ``{column_id, row_index, value, …}``."""
    await _table(db, table_id)
    for column_id in {c["column_id"] for c in cells}:
        await _column(db, table_id, column_id)
    rows = [
        {
            "id": str(uuid.uuid4()),
            "organization_id": db.org_id,
            "request_id": None,
            "status": None,
            "metadata": None,
            "created_at": _now(),
            **cell,
        }
        for cell in cells
    ]
    if rows:
        await db.execute(db.dialect.upsert(cell_t, ("column_id", "row_index")), rows)


async def update_cell(db: OrgDb, /, table_id: str, cell_id: str, **fields: Any) -> None:
    """Change a cell's value, status or metadata."""
    await _table(db, table_id)
    changed = await db.execute(
        update(cell_t)
        .where(
            db.in_org(cell_t),
            cell_t.c.id == cell_id,
            cell_t.c.column_id.in_(_columns_of(table_id)),
        )
        .values(**fields)
    )
    if changed == 0:
        raise NotFound(f"cell {cell_id} not found in table {table_id}")


async def delete_row(db: OrgDb, table_id: str, row_index: int) -> None:
    """Delete every cell of a row."""
    await _table(db, table_id)
    await db.execute(
        delete(cell_t).where(
            cell_t.c.row_index == row_index, cell_t.c.column_id.in_(_columns_of(table_id))
        )
    )
