"""ClickHouse fixtures: one chdb engine for the whole test session, a database per test.

chdb runs one engine (one data directory) per process, so every test shares it; each test gets
its own database, dropped afterwards, which keeps tests apart as a database per test does on
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from helioscope.store.clickhouse import ClickHouse, ClickHouseLog, migrate


@pytest.fixture(scope="session")
def chdb_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The session's chdb data directory, with one client kept open so the engine stays up."""
    path = tmp_path_factory.mktemp("chdb")
    keeper = asyncio.run(ClickHouse.connect(f"chdb://{path}?database=keeper"))
    yield path
    asyncio.run(keeper.close())


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
