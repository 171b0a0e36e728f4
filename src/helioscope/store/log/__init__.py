"""The request log: its write path and every query over it, run through ``store.log``.

``store.log`` is a runner like ``store`` (``read``, ``write``, ``org``) over the engine that
keeps the log, plus ``write_batch`` for the log writer. On SQLite/PostgreSQL that engine is the
store's own (``LogStore``); with ``HELIOSCOPE_CLICKHOUSE_URL`` it is a ``ClickHouseLog``
(``store/clickhouse``), whose ``org(org_id)`` runs the same functions. Every function in this
package reads or writes only the log's tables (``tables.log``); another area that needs log
rows reaches them through ``db.log``.
"""

from __future__ import annotations

from collections.abc import Mapping

from helioscope.store._runner import Db, Runner
from helioscope.store.log.journal import Position, save_positions
from helioscope.store.log.write import insert_log_rows
from helioscope.store.records import LogRow

__all__ = ["LogStore", "Position"]


async def _rows_and_positions(
    db: Db, rows: list[LogRow], positions: Mapping[str, Position] | None
) -> None:
    await insert_log_rows(db, rows)
    if positions:
        await save_positions(db, positions)


class LogStore(Runner):
    """The log's runner (``store.log``): query functions of this package, and the writer's batches.

    This is the seam another engine implements to keep the log (see ``store/README.md``).
    """

    async def write_batch(
        self, rows: list[LogRow], positions: Mapping[str, Position] | None = None
    ) -> None:
        """Write a batch of log rows in one transaction (all or nothing); replays are harmless.

        ``positions`` (journal worker -> (segment, offset)) are how far the journals have been
        stored once these rows are: committed in the same transaction here. An engine without
        transactions shared with the relational store (ClickHouse) commits them there after
        its insert succeeds: its rows are idempotent, so a replay after a crash in between is
        harmless.
        """
        await self.write(_rows_and_positions, rows, positions)
