"""The request log: its write path and every query over it, run through ``store.log``.

``store.log`` is a runner like ``store`` (``read``, ``write``, ``org``) over the engine that
keeps the log, plus ``write_batch`` for the log writer. On SQLite/PostgreSQL that engine is the
store's own (``LogStore``); with ``HELIOSCOPE_CLICKHOUSE_URL`` it is a ``ClickHouseLog``
(``store/clickhouse``), whose ``org(org_id)`` runs the same functions. Every function in this
package reads or writes only the log's tables (``tables.log``); another area that needs log
rows reaches them through ``db.log``.
"""

from __future__ import annotations

from helioscope.store._runner import Runner
from helioscope.store.log.write import insert_log_rows
from helioscope.store.records import LogRow

__all__ = ["LogStore"]


class LogStore(Runner):
    """The log's runner (``store.log``): query functions of this package, and the writer's batches.

    This is the seam another engine implements to keep the log (see ``store/README.md``).
    """

    async def write_batch(self, rows: list[LogRow]) -> None:
        """Write a batch of log rows in one transaction (all or nothing); replays are harmless."""
        await self.write(insert_log_rows, rows)
