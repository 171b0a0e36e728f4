"""ClickHouse fixtures: a database per test on the session's chdb engine (``chdb_path``, in
``tests/conftest.py``), dropped afterwards, as a database per test does on PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from helioscope.store.clickhouse import ClickHouse, ClickHouseLog, migrate


@pytest.fixture
async def clickhouse(chdb_path: Path) -> AsyncIterator[ClickHouse]:
    """A migrated, empty database of its own on the session's chdb engine."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    ch = await ClickHouse.connect(f"chdb://{chdb_path}?database={name}")
    await migrate(ch)
    yield ch
    await ch.command(f"DROP DATABASE IF EXISTS `{name}`")
    await ch.close()


@pytest.fixture
def ch_log(clickhouse: ClickHouse) -> ClickHouseLog:
    """The test database as the request log's runner (``store.log`` on ClickHouse)."""
    return ClickHouseLog(clickhouse)
