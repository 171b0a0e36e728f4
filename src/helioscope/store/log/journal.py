"""The log writer's read positions in the gateway workers' journals (``journal_position``).

A position says how far a worker's journal has been stored: the segment file's name and the
byte offset after the last stored frame. It is written in the transaction of the rows it covers
(``LogStore.write_batch``), so it can never run ahead of them, nor fall behind by more than the
batch a crash interrupted (a replay of that batch is a harmless upsert).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import delete, func, select

from helioscope.store._runner import Db
from helioscope.store.tables.log import journal_position

Position = tuple[str, int]  # (segment file name, byte offset after the last stored frame)


async def read_positions(db: Db) -> dict[str, Position]:
    """Every worker's committed position."""
    jp = journal_position
    stmt = select(jp.c.worker, jp.c.segment, jp.c.offset)
    return {worker: (segment, int(offset)) for worker, segment, offset in await db.tuples(stmt)}


async def save_positions(db: Db, positions: Mapping[str, Position]) -> None:
    """Record positions (last write wins), in ``db``'s transaction."""
    if not positions:
        return
    now = dt.datetime.now(dt.UTC)
    stmt = db.dialect.upsert(journal_position, ("worker",))
    await db.execute(
        stmt,
        [
            {"worker": w, "segment": s, "offset": o, "updated_at": now}
            for w, (s, o) in positions.items()
        ],
    )


async def forget_journal(db: Db, journal_id: str) -> int:
    """Forget one journal directory's positions (each of its workers'); how many there were."""
    jp = journal_position
    prefix = f"{journal_id}:"
    # An exact prefix: SQLite's LIKE ignores the case of ASCII letters (another id, in capitals,
    # would match this server's own), and a LIKE pattern has wildcards to escape.
    return await db.execute(delete(jp).where(func.substr(jp.c.worker, 1, len(prefix)) == prefix))
