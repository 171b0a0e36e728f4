"""The filter compiler on ClickHouse: the same allowlist, operators and 400s, values bound by
the server, and nothing a client sends in SQL text."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from helioscope.errors import BadRequest, InvalidFilter
from helioscope.store import RequestQuery, SessionQuery, _requests, _sessions
from helioscope.store.clickhouse import (
    ClickHouse,
    ClickHouseConnection,
    ClickHouseSqlDialect,
    compile_statement,
    insert_log_rows,
)
from helioscope.store.filters import OPERATORS, TABLES, compile_filter
from helioscope.store.filters._fields import MapField
from tests.store.test_filters import BAD_NODES, INJECTIONS, row

SAMPLES: dict[str, Any] = {
    "text": "x",
    "number": 1,
    "timestamp": "2026-01-01T00:00:00Z",
    "timestamp (string)": "2026-01-01",
    "boolean": True,
    "vector": "x",
}
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
    for table, columns in TABLES.items():
        for name, field in columns.items():
            for op, operator in OPERATORS.items():
                if field.kind not in operator.kinds:
                    continue
                value = SAMPLES[field.kind.value]
                leaf: Any = {
                    name: {"some key": {op: value}} if isinstance(field, MapField) else {op: value}
                }
                try:
                    await _requests.count_requests(conn, "org", {table: leaf})
                except Exception as exc:
                    assert "helicone_api_keys" in str(exc), (table, name, op, exc)
                    failed.add(f"{table}.{name}")
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


@pytest.mark.parametrize("payload", INJECTIONS)
async def test_injection_is_data_or_a_400(
    clickhouse: ClickHouse, ch_conn: ClickHouseConnection, payload: str
) -> None:
    clean = payload.replace("\x00", "")
    await insert_log_rows(
        clickhouse,
        [
            row("mine", "org-a", properties={clean: "v", "env": clean}),
            row("theirs", "org-b", properties={"env": "x"}),
        ],
    )
    conn = cast(AsyncConnection, ch_conn)
    filters: list[Any] = [
        {"request_response_rmt": {"properties": {payload: {"equals": "v"}}}},
        {"request_response_rmt": {"properties": {"env": {"equals": payload}}}},
        {"request_response_rmt": {"model": {"like": payload}}},
        {"request_response_rmt": {"model": {"contains": payload}}},
        {"request_response_rmt": {"scores": {payload: {"gt": 1}}}},
        {"values": {payload: {"equals": payload}}},
    ]
    for node in filters:
        try:
            rows = await _requests.query_requests(conn, "org-a", RequestQuery(filter=node))
        except InvalidFilter:
            continue
        assert all(r["organization_id"] == "org-a" for r in rows)
    for sort in ({"properties": {payload: "asc"}}, {payload: "asc"}):
        try:
            await _requests.query_requests(conn, "org-a", RequestQuery(sort=sort))
        except Exception as exc:  # only our own 400 is acceptable, never a database error
            assert isinstance(exc, BadRequest), exc
    try:
        assert (
            await _sessions.query_sessions(
                conn, "org-a", SessionQuery(search=payload, use_summary=False)
            )
            == []
        )
    except BadRequest:
        assert "\x00" in payload
    assert await _requests.count_requests(conn, "org-b", "all") == 1
    if "\x00" not in payload:
        node = {"request_response_rmt": {"properties": {payload: {"equals": "v"}}}}
        found = await _requests.query_requests(conn, "org-a", RequestQuery(filter=node))
        assert [r["request_id"] for r in found] == ["mine"]
