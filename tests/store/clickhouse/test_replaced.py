"""The replaced-row check (``_replaced.existing``): the same answer whether the batch's time span
holds few logged rows (its ids are read, and only those in the batch asked for) or many (the
batch's ids are asked for at once)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest

from helioscope.store.clickhouse import ClickHouse, insert_log_rows
from helioscope.store.clickhouse import _replaced as replaced
from tests.store.test_filters import row

START = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def _at(minute: int, request_id: str, model: str = "gpt-4o-mini") -> Any:
    return row(
        request_id, "org", request_created_at=START + dt.timedelta(minutes=minute), model=model
    )


async def test_existing_reads_the_span_first_and_falls_back_to_the_ids(
    clickhouse: ClickHouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    await insert_log_rows(clickhouse, [_at(m, f"r{m}") for m in range(50)])
    asked: list[list[str] | None] = []
    query = clickhouse.query

    async def recorded(sql: str, parameters: Any = None) -> Any:
        ids = (parameters or {}).get("ids")
        asked.append(None if ids is None else orjson.loads(ids))
        return await query(sql, parameters)

    monkeypatch.setattr(clickhouse, "query", recorded)

    # New rows in a span holding no logged row: one read of the span, no ids asked for.
    new = [_at(m, f"new{m}") for m in (70, 71)]
    assert await replaced.existing(clickhouse, new) == {}
    assert asked == [None]

    # A replay in a span of few rows: the span's ids are read, only the batch's one asked for.
    asked.clear()
    found = await replaced.existing(clickhouse, [_at(10, "r10", "changed"), _at(10, "x")])
    assert list(found) == [("org", "r10")] and found[("org", "r10")].values[2] == "gpt-4o-mini"
    assert asked == [None, ["r10"]]

    # A batch whose span holds many more logged rows than it has: its ids, asked for at once.
    asked.clear()
    found = await replaced.existing(clickhouse, [_at(0, "r0"), _at(49, "late")])
    assert list(found) == [("org", "r0")]
    assert asked == [None, ["r0", "late"]]
