"""The reference-evaluator test of the filter language, on ClickHouse: random filter trees over
random logs must select exactly the rows the reference selects, never another organization's."""

from __future__ import annotations

import asyncio
import random
import uuid
from pathlib import Path
from typing import Any, cast

from hypothesis import HealthCheck, given, settings
from sqlalchemy.ext.asyncio import AsyncConnection

from helioscope.store import RequestQuery, _requests
from helioscope.store.clickhouse import ClickHouse, ClickHouseConnection, insert_log_rows, migrate
from tests.store.filter_reference import evaluate
from tests.store.test_filter_property import make_rows, trees


def test_clickhouse_matches_the_reference(chdb_path: Path) -> None:
    loop = asyncio.new_event_loop()
    name = f"test_{uuid.uuid4().hex[:12]}"
    ch = loop.run_until_complete(ClickHouse.connect(f"chdb://{chdb_path}?database={name}"))
    conn = cast(AsyncConnection, ClickHouseConnection(ch))
    rng = random.Random(20261125)
    mine = make_rows("org-mine", rng, 80)
    theirs = make_rows("org-theirs", rng, 30)
    loop.run_until_complete(migrate(ch))
    loop.run_until_complete(insert_log_rows(ch, mine + theirs))

    @settings(
        max_examples=250,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(tree=trees)
    def check(tree: Any) -> None:
        query = RequestQuery(filter=tree, limit=1000, include_bodies=False)
        rows = loop.run_until_complete(_requests.query_requests(conn, "org-mine", query))
        got = {row["request_id"] for row in rows}
        expected = {row.request_id for row in mine if evaluate(tree, row)}
        assert got == expected, tree

    try:
        check()
    finally:
        loop.run_until_complete(ch.command(f"DROP DATABASE `{name}`"))
        loop.run_until_complete(ch.close())
        loop.close()
