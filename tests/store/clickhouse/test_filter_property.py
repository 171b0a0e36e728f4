"""The reference-evaluator test of the filter language, on ClickHouse: random filter trees over
random logs must select exactly the rows the reference selects, never another organization's."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from helioscope.store.clickhouse import ClickHouseLog
from tests.store.test_filter_property import check_against_reference


def test_clickhouse_matches_the_reference(chdb_path: Path) -> None:
    loop = asyncio.new_event_loop()
    name = f"test_{uuid.uuid4().hex[:12]}"
    log = ClickHouseLog(f"chdb://{chdb_path}?database={name}")
    loop.run_until_complete(log.start())
    try:
        check_against_reference(loop, log)
    finally:
        loop.run_until_complete(log.clickhouse.command(f"DROP DATABASE `{name}`"))
        loop.run_until_complete(log.close())
        loop.close()
