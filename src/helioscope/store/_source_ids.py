"""Objects copied in from another server keep their source ids: who owns such an id here.

Ids are global (a table's primary key), so an imported id may already belong to another
organization; the import then leaves that object alone rather than move or overwrite it.
"""

from __future__ import annotations

from sqlalchemy import Table, select

from helioscope.store._runner import OrgDb


async def claim(db: OrgDb, table: Table, object_id: str) -> bool | None:
    """None when ``object_id`` is free, True when this organization owns it, False otherwise."""
    # Deliberately not scoped: the question is whether *another* organization holds the id.
    owner = await db.scalar(select(table.c.organization_id).where(table.c.id == object_id))
    return None if owner is None else owner == db.org_id
