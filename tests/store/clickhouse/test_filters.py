"""The filter compiler on ClickHouse: the same allowlist, operators and 400s, values bound by
the server, and nothing a client sends in SQL text."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from helioscope.errors import InvalidFilter
from helioscope.store import RequestQuery
from helioscope.store.clickhouse import ClickHouseLog, ClickHouseSqlDialect, compile_statement
from helioscope.store.filters import compile_filter
from helioscope.store.log import requests
from helioscope.store.tables.log import request_response as rr
from tests.store.test_filters import BAD_NODES, INJECTIONS, check_injection, every_column_leaf, row

# Columns that look up a table only SQLite/PostgreSQL keep (API keys are metadata).
SQL_ONLY = {"request.auth_hash"}


@pytest.mark.parametrize(("node", "message"), BAD_NODES)
async def test_bad_nodes_are_the_same_400s(ch_log: ClickHouseLog, node: Any, message: str) -> None:
    with pytest.raises(InvalidFilter) as caught:
        await ch_log.org("org").read(requests.query_requests, RequestQuery(filter=node))
    assert message in caught.value.message


async def test_every_allowlisted_column_runs_with_each_operator(ch_log: ClickHouseLog) -> None:
    await ch_log.write_batch([row("r1", "org", properties={"some key": "x"})])
    failed = set()
    for column, node in every_column_leaf():
        try:
            await ch_log.org("org").read(requests.count_requests, node)
        except Exception as exc:
            # Without a relational store (a bare ClickHouse log) there are no keys to bind.
            assert "API keys" in str(exc), (node, exc)
            failed.add(column)
    assert failed == SQL_ONLY


def test_values_are_bound_by_the_server_never_spliced() -> None:
    secret = "needle'); DROP TABLE request_response; --"
    node = {
        "left": {"request_response_rmt": {"properties": {secret: {"equals": secret}}}},
        "operator": "or",
        "right": {"request_response_rmt": {"request_created_at": {"gt": "2026-01-01T03:30:00.5Z"}}},
    }
    where = compile_filter(node, ClickHouseSqlDialect()).where
    assert where is not None
    query = compile_statement(select(rr.c.request_id).where(where))
    assert secret not in query.sql
    assert "needle" not in query.sql
    assert list(query.parameters.values()).count(secret) == 2
    assert "DateTime64(6, 'UTC')}" in query.sql
    assert dt.datetime(2026, 1, 1, 3, 30, 0, 500000, tzinfo=dt.UTC) in query.parameters.values()


@pytest.mark.parametrize("payload", INJECTIONS)
async def test_injection_is_data_or_a_400(ch_log: ClickHouseLog, payload: str) -> None:
    await check_injection(ch_log, payload)


async def test_an_or_chain_with_an_empty_pattern_keeps_every_row(ch_log: ClickHouseLog) -> None:
    # chdb 26.9's optimize_or_like_chain lost these rows (see _client.SESSION_SETTINGS).
    await ch_log.write_batch(
        [row(f"r{i}", "org", user_id=None if i % 2 else "bob") for i in range(6)]
    )

    def leaf(text: str) -> Any:
        return {"request_response_rmt": {"user_id": {"contains": text}}}

    either = {"left": leaf("alpha"), "operator": "or", "right": leaf("alpha")}
    node = {"left": either, "operator": "or", "right": {**either, "right": leaf("")}}
    assert await ch_log.org("org").read(requests.count_requests, node) == 6
