"""The reference-evaluator test of the filter language, on ClickHouse: random filter trees over
random logs must select exactly the rows the reference selects, never another organization's."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import cast

from sqlalchemy.ext.asyncio import AsyncConnection

from helioscope.store import _requests
from helioscope.store.clickhouse import ClickHouse, ClickHouseConnection, insert_log_rows, migrate
from tests.store.test_filter_property import check_against_reference, reference_rows


def test_clickhouse_matches_the_reference(chdb_path: Path) -> None:
    loop = asyncio.new_event_loop()
    name = f"test_{uuid.uuid4().hex[:12]}"
    ch = loop.run_until_complete(ClickHouse.connect(f"chdb://{chdb_path}?database={name}"))
    conn = cast(AsyncConnection, ClickHouseConnection(ch))
    mine, theirs = reference_rows()
    loop.run_until_complete(migrate(ch))
    loop.run_until_complete(insert_log_rows(ch, mine + theirs))
    try:
        check_against_reference(loop, lambda q: _requests.query_requests(conn, "org-mine", q), mine)
    finally:
        loop.run_until_complete(ch.command(f"DROP DATABASE `{name}`"))
        loop.run_until_complete(ch.close())
        loop.close()
