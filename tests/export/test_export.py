"""Exports from a real store: one record shape in three formats, streamed in keyset pages."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest

from helioscope.errors import BadRequest
from helioscope.export import (
    COLUMN_NAMES,
    ExportQuery,
    count,
    export_chunks,
    open_encoder,
    record_pages,
)
from helioscope.store import Store
from tests.export.conftest import T0

# These routes read the log: they run with it in ClickHouse too (tests/conftest.py).
pytestmark = pytest.mark.clickhouse


async def export_bytes(store: Store, org_id: str, fmt: str, query: ExportQuery) -> bytes:
    chunks = export_chunks(store, org_id, query, open_encoder(fmt), page_size=7)
    return b"".join([chunk.data async for chunk in chunks])


def by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["request_id"]: r for r in records}


async def test_jsonl_holds_every_row_of_the_org_with_parsed_bodies(
    store: Store, exported_org: str
) -> None:
    data = await export_bytes(store, exported_org, "jsonl", ExportQuery())
    records = [orjson.loads(line) for line in data.splitlines()]
    assert [r["request_id"] for r in records] == [f"req-{i:04d}" for i in range(34)]
    assert all(list(r) == list(COLUMN_NAMES) for r in records)
    first = by_id(records)["req-0000"]
    assert first["created_at"] == "2025-05-01T09:30:00.000000Z"
    assert first["cost_usd"] == pytest.approx(1.25e-6)
    assert first["request_body"] == {"messages": [{"role": "user", "content": "hi"}]}
    assert first["properties"] == {"environment": "prod", "Helicone-Session-Id": "s-1"}
    assert first["session_id"] == "s-1" and first["scores"] == {"accuracy": 90}
    assert by_id(records)["req-0003"]["feedback_rating"] is True
    odd = by_id(records)["req-0032"]
    assert odd["request_body"] == "plain text, not JSON"
    assert odd["response_body"] is None and odd["cost_usd"] is None


async def test_csv_neutralises_formula_cells_and_keeps_numbers(
    store: Store, exported_org: str
) -> None:
    data = await export_bytes(store, exported_org, "csv", ExportQuery())
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert list(rows[0]) == list(COLUMN_NAMES) and len(rows) == 34
    cells = by_id(rows)
    assert cells["req-0030"]["user_id"] == '\'=HYPERLINK("http://evil")'
    assert cells["req-0030"]["model"] == "'+cmd"
    assert cells["req-0031"]["user_id"] == "'@SUM(A1)"
    # A number stays a number, even a negative one; a JSON cell starts with '{'.
    assert cells["req-0031"]["status"] == "-2"
    assert orjson.loads(cells["req-0031"]["properties"]) == {"note": "-2+3"}
    assert cells["req-0033"]["is_stream"] == "true"
    assert cells["req-0000"]["response_body"] == '{"choices": []}'


async def test_parquet_round_trips_with_types(store: Store, exported_org: str) -> None:
    data = await export_bytes(store, exported_org, "parquet", ExportQuery())
    table = pq.read_table(io.BytesIO(data))
    assert table.column_names == list(COLUMN_NAMES) and table.num_rows == 34
    records = by_id(table.to_pylist())
    first = records["req-0000"]
    assert first["created_at"] == T0
    assert first["latency_ms"] == 420 and first["cost_usd"] == pytest.approx(1.25e-6)
    assert orjson.loads(first["properties"])["environment"] == "prod"
    assert records["req-0031"]["status"] == -2


async def test_filter_and_window_select_rows_and_count_agrees(
    store: Store, exported_org: str
) -> None:
    query = ExportQuery(
        filter={"request_response_rmt": {"model": {"equals": "gpt-4o-mini"}}},
        since=T0 + dt.timedelta(minutes=10),
        until=T0 + dt.timedelta(minutes=32),
        include_bodies=False,
    )
    data = await export_bytes(store, exported_org, "jsonl", query)
    records = [orjson.loads(line) for line in data.splitlines()]
    # Minutes 10..31, less req-0030 (model "+cmd").
    wanted = [f"req-{i:04d}" for i in range(10, 32) if i != 30]
    assert [r["request_id"] for r in records] == wanted
    assert await count(store, exported_org, query) == len(wanted)
    assert all(r["request_body"] is None for r in records)


async def test_the_log_is_read_a_page_at_a_time(store: Store, exported_org: str) -> None:
    pages = [page async for page in record_pages(store, exported_org, ExportQuery(), 8)]
    assert [len(p) for p in pages] == [8, 8, 8, 8, 2]


async def test_a_bad_filter_fails_before_any_byte(store: Store, exported_org: str) -> None:
    bad = ExportQuery(filter={"request_response_rmt": {"latnecy": {"gt": 1}}})
    chunks = export_chunks(store, exported_org, bad, open_encoder("csv"))
    with pytest.raises(BadRequest, match="latnecy"):
        await anext(chunks)
    with pytest.raises(BadRequest, match="format must be one of"):
        open_encoder("xlsx")
