"""Deleting logged requests older than ``HELIOSCOPE_LOG_RETENTION_DAYS`` on SQLite/PostgreSQL.

ClickHouse expires them itself (a TTL set when its tables are migrated); a log in the
database is trimmed by this task: at start-up, then every ``interval`` seconds, in batches
(``store.log.retention.delete_expired``) until nothing older than the retention is left.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from helioscope.store import Store
from helioscope.store.log import LogStore, retention

logger = logging.getLogger("helioscope.retention")


class LogRetention:
    """Trims the log to its retention every ``interval`` seconds; use as ``async with``."""

    def __init__(self, store: Store, days: int, *, interval: float = 3600.0) -> None:
        self.store = store
        self.days = days
        self.interval = interval
        self.deleted = 0  # requests deleted since start-up
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LogRetention:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                await self.trim()
            except Exception as exc:  # the store is down: try again next round
                logger.warning("could not delete expired log rows: %r", exc)
            await asyncio.sleep(self.interval)

    async def trim(self, now: dt.datetime | None = None) -> int:
        """Delete every request older than the retention at ``now``; how many were deleted."""
        log = self.store.log
        if not isinstance(log, LogStore):
            return 0  # ClickHouse: its TTL does this
        before = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=self.days)
        deleted = 0
        while True:
            count = await log.write(retention.delete_expired, before)
            deleted += count
            self.deleted += count
            if count < retention.BATCH:
                return deleted
