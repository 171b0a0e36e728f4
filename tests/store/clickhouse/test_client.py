"""The client: calls leave the event loop free, and errors split into retry-later and refused."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

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


def test_an_insert_does_not_import_pandas(tmp_path: Path) -> None:
    # clickhouse-connect imported pandas at the first insert (to ask whether the rows were a
    # DataFrame): seconds of a running server's GIL and ~36,000 objects for its collector.
    # A process of its own: another test may have imported pandas into this one.
    script = f"""
import asyncio, sys
from helioscope.store.clickhouse import ClickHouse

async def main() -> None:
    ch = await ClickHouse.connect("chdb://{tmp_path / "ch"}?database=probe")
    await ch.command("CREATE TABLE t (x Int64) ENGINE = MergeTree ORDER BY x")
    await ch.insert("t", ["x"], [[1, 2]])
    rows = await ch.query("SELECT sum(x) FROM t")
    await ch.close()
    print(rows.rows[0][0], "pandas" in sys.modules)

asyncio.run(main())
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["3", "False"]
