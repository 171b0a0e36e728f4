"""The change counter: bumped after a change that caches depend on, polled by every worker."""

from __future__ import annotations

from sqlalchemy import select, update

from helioscope.store._runner import Db
from helioscope.store.tables.keys import change_counter


async def current(db: Db) -> int:
    """The counter's value (0 before the first change)."""
    value = await db.scalar(select(change_counter.c.value).where(change_counter.c.id == 1))
    return int(value or 0)


async def bump(db: Db) -> int:
    """Move the counter on (created on first use); its new value, as this transaction left it."""
    changed = await db.execute(
        update(change_counter)
        .where(change_counter.c.id == 1)
        .values(value=change_counter.c.value + 1)
    )
    if not changed:
        await db.execute(db.dialect.upsert(change_counter, ("id",)), [{"id": 1, "value": 1}])
    return await current(db)
