"""The filter compiler on ClickHouse: the same allowlist, operators and 400s, values bound by
the server, and nothing a client sends in SQL text."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, cast

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from helioscope.errors import InvalidFilter
from helioscope.store import RequestQuery, SessionQuery, _requests, _sessions
from helioscope.store.clickhouse import (
    ClickHouse,
    ClickHouseConnection,
    ClickHouseSqlDialect,
    compile_statement,
    insert_log_rows,
)
from helioscope.store.filters import compile_filter
from tests.store.test_filters import (
    BAD_NODES,
    INJECTIONS,
    check_injection,
    every_column_leaf,
    injection_rows,
    row,
)

# Columns that look up a table only SQLite/PostgreSQL keep (API keys are metadata).
SQL_ONLY = {"request.auth_hash"}


@pytest.mark.parametrize(("node", "message"), BAD_NODES)
async def test_bad_nodes_are_the_same_400s(
    ch_conn: ClickHouseConnection, node: Any, message: str
) -> None:
    conn = cast(AsyncConnection, ch_conn)
    with pytest.raises(InvalidFilter) as caught:
        await _requests.query_requests(conn, "org", RequestQuery(filter=node))
    assert message in caught.value.message


async def test_every_allowlisted_column_runs_with_each_operator(
    clickhouse: ClickHouse, ch_conn: ClickHouseConnection
) -> None:
    await insert_log_rows(clickhouse, [row("r1", "org", properties={"some key": "x"})])
    conn = cast(AsyncConnection, ch_conn)
    failed = set()
    for column, node in every_column_leaf():
        try:
            await _requests.count_requests(conn, "org", node)
        except Exception as exc:
            assert "helicone_api_keys" in str(exc), (node, exc)
            failed.add(column)
    assert failed == SQL_ONLY


def test_values_are_bound_by_the_server_never_spliced() -> None:
    secret = "needle'); DROP TABLE request_response; --"
    node = {
        "left": {"request_response_rmt": {"properties": {secret: {"equals": secret}}}},
        "operator": "or",
        "right": {"request_response_rmt": {"request_created_at": {"gt": "2026-01-01T03:30:00.5Z"}}},
    }
    d = ClickHouseSqlDialect()
    where = compile_filter(node, d).where
    assert where is not None
    from sqlalchemy import select

    from helioscope.store._schema import request_response as rr

    query = compile_statement(select(rr.c.request_id).where(where))
    assert secret not in query.sql
    assert "needle" not in query.sql
    assert list(query.parameters.values()).count(secret) == 2
    assert "DateTime64(6, 'UTC')}" in query.sql
    assert dt.datetime(2026, 1, 1, 3, 30, 0, 500000, tzinfo=dt.UTC) in query.parameters.values()


class _ClickHouseReads:
    """The store's request and session reads, run on ClickHouse (sessions from the log)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def query_requests(self, org_id: str, query: RequestQuery) -> list[dict[str, Any]]:
        return await _requests.query_requests(self.conn, org_id, query)

    async def query_sessions(self, org_id: str, query: SessionQuery) -> list[dict[str, Any]]:
        query = dataclasses.replace(query, use_summary=False)
        return await _sessions.query_sessions(self.conn, org_id, query)

    async def count_requests(self, org_id: str, node: Any, is_cached: bool | None) -> int:
        return await _requests.count_requests(self.conn, org_id, node, is_cached)


@pytest.mark.parametrize("payload", INJECTIONS)
async def test_injection_is_data_or_a_400(
    clickhouse: ClickHouse, ch_conn: ClickHouseConnection, payload: str
) -> None:
    await insert_log_rows(clickhouse, injection_rows(payload))
    await check_injection(_ClickHouseReads(cast(AsyncConnection, ch_conn)), payload)
