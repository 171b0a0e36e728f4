"""The client: calls leave the event loop free, and errors split into retry-later and refused."""

from __future__ import annotations

import asyncio
import socket

import pytest

from helioscope.store import is_transient
from helioscope.store.clickhouse import ClickHouse, ClickHouseRejected, ClickHouseUnavailable


async def test_a_slow_query_does_not_hold_the_event_loop(clickhouse: ClickHouse) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    rows = await clickhouse.query("SELECT sleep(0.5), 1")
    ticker.cancel()
    assert rows.rows == [(0, 1)]
    assert ticks >= 20  # the loop kept running while ClickHouse slept


async def test_a_bad_statement_is_refused_not_retried(clickhouse: ClickHouse) -> None:
    with pytest.raises(ClickHouseRejected) as caught:
        await clickhouse.query("SELEC 1")
    assert not is_transient(caught.value)
    with pytest.raises(ClickHouseRejected):
        await clickhouse.query("SELECT toInt32({v:String})", {"v": "not a number"})


async def test_a_missing_table_is_retried_later(clickhouse: ClickHouse) -> None:
    # The writer keeps its rows until a migration creates the table.
    with pytest.raises(ClickHouseUnavailable) as caught:
        await clickhouse.query("SELECT 1 FROM no_such_table")
    assert is_transient(caught.value)


async def test_an_unreachable_server_is_retried_later() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ClickHouseUnavailable) as caught:
        await ClickHouse.connect(f"http://default@127.0.0.1:{port}/default")
    assert is_transient(caught.value)


async def test_parameters_keep_their_types(clickhouse: ClickHouse) -> None:
    rows = await clickhouse.query(
        "SELECT {s:String}, {n:Int64} + 1, has({ids:Array(String)}, 'b')",
        {"s": "it's", "n": 41, "ids": ["a", "b"]},
    )
    assert rows.rows == [("it's", 42, 1)]
