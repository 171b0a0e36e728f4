"""The filter compiler: every table and column Helicone's seed names, and every way to get it
wrong (a 400 that names the node's path; nothing user-supplied in SQL text)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

from helioscope.errors import BadRequest, InvalidFilter
from helioscope.store import LogRow, RequestQuery, SessionQuery, Store
from helioscope.store._dialects import SqlDialect
from helioscope.store.filters import OPERATORS, TABLES, compile_filter
from helioscope.store.filters._fields import MapField
from helioscope.store.log import requests, sessions

# Helicone's documented example body of /v1/session/query: every table and column it filters on.
SEED = Path(__file__).parents[1] / "fixtures" / "seed-session-query.json"
NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def seed_filter() -> Any:
    return json.loads(SEED.read_text())["filter"]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_every_table_and_column_of_the_seed_compiles(dialect: str) -> None:
    from helioscope.store.log.sessions import AGGREGATES

    compiled = compile_filter(seed_filter(), SqlDialect(dialect), AGGREGATES)
    assert compiled.where is not None
    assert compiled.having is not None


BAD_NODES: list[tuple[Any, str]] = [
    (
        {"request_response_rmt": {"latnecy": {"gt": 1}}},
        "filter.request_response_rmt.latnecy: unknown column",
    ),
    ({"nope": {}}, "filter.nope: unknown table"),
    (
        {"request_response_rmt": {"latency": {"bigger": 1}}},
        "filter.request_response_rmt.latency.bigger: unknown operator",
    ),
    (
        {"request_response_rmt": {"latency": {"gt": "fast"}}},
        "filter.request_response_rmt.latency.gt: expected a number",
    ),
    (
        {"request_response_rmt": {"latency": {"like": "1%"}}},
        "does not apply to a number column",
    ),
    ({"request_response_rmt": {"threat": {"equals": "maybe"}}}, "expected true or false"),
    (
        {"request_response_rmt": {"request_created_at": {"gt": "yesterday"}}},
        "expected an ISO 8601 time",
    ),
    ({"request_response_rmt": {"model": {"equals": {"$ne": 1}}}}, "expected a string"),
    ({"request_response_rmt": {"model": "gpt"}}, "expected an object of {operator: value}"),
    (
        {"left": "all", "operator": "xor", "right": "all"},
        'filter.operator: expected "and" or "or"',
    ),
    ({"left": "all", "operator": "and"}, "a branch needs left, operator and right"),
    (
        {"left": "all", "operator": "and", "right": {"request": {"id": {"equals": 5j}}}},
        "filter.right.request.id.equals",
    ),
    (
        {
            "left": {"left": "all", "operator": "or", "right": 42},
            "operator": "and",
            "right": "all",
        },
        "filter.left.right: expected",
    ),
    ("everything", 'filter: expected "all"'),
    ({"request_response_rmt": {"latency": {"gt": float("inf")}}}, "finite"),
    (
        {"request_response_rmt": {"properties": {"k": "v"}}},
        "filter.request_response_rmt.properties.k: expected an object",
    ),
]


@pytest.mark.parametrize(("node", "message"), BAD_NODES)
def test_bad_nodes_name_their_path(node: Any, message: str) -> None:
    with pytest.raises(InvalidFilter) as caught:
        compile_filter(node, SqlDialect("sqlite"))
    assert message in caught.value.message


def test_deep_nesting_is_refused_not_a_crash() -> None:
    node: Any = "all"
    for _ in range(5000):
        node = {"left": node, "operator": "and", "right": "all"}
    with pytest.raises(InvalidFilter, match="nested more than"):
        compile_filter(node, SqlDialect("postgresql"))


SAMPLES: dict[str, Any] = {
    "text": "x",
    "number": 1,
    "timestamp": "2026-01-01T00:00:00Z",
    "timestamp (string)": "2026-01-01",
    "boolean": True,
    "vector": "x",
}


def every_column_leaf() -> Iterator[tuple[str, Any]]:
    """(``table.column``, a filter) for every allowlisted column with each operator it takes."""
    for table, columns in TABLES.items():
        for name, field in columns.items():
            for op, operator in OPERATORS.items():
                if field.kind not in operator.kinds:
                    continue
                condition = {op: SAMPLES[field.kind.value]}
                leaf = {"some key": condition} if isinstance(field, MapField) else condition
                yield f"{table}.{name}", {table: {name: leaf}}


def row(request_id: str, org: str, **fields: Any) -> LogRow:
    values: dict[str, Any] = {
        "request_id": request_id,
        "organization_id": org,
        "request_created_at": NOW,
        "status": 200,
        "provider": "OPENAI",
        "model": "gpt-4o-mini",
    }
    values.update(fields)
    return LogRow(**values)


INJECTIONS = [
    "'; DROP TABLE request_response; --",
    '" OR 1=1 --',
    "%' OR '1'='1",
    "$.x') OR 1=1 --",
    'a"b',
    "\\",
    "\x00",
]


class Log(Protocol):
    """The request log's runner: ``store.log``, or the same over ClickHouse."""

    async def write_batch(self, rows: list[LogRow]) -> None: ...

    def org(self, org_id: str) -> Any: ...


def injection_rows(payload: str) -> list[LogRow]:
    """A row whose property key and value are the payload, and another organization's row."""
    clean = payload.replace("\x00", "")
    return [
        row("mine", "org-a", properties={clean: "v", "env": clean}),
        row("theirs", "org-b", properties={"env": "x"}),
    ]


async def check_injection(log: Log, payload: str) -> None:
    """The payload as a filter key, value, pattern or sort key is data or a 400, nothing else."""
    await log.write_batch(injection_rows(payload))
    mine = log.org("org-a")
    filters: list[Any] = [
        {"request_response_rmt": {"properties": {payload: {"equals": "v"}}}},
        {"request_response_rmt": {"properties": {"env": {"equals": payload}}}},
        {"request_response_rmt": {"model": {"like": payload}}},
        {"request_response_rmt": {"model": {"contains": payload}}},
        {"request_response_rmt": {"scores": {payload: {"gt": 1}}}},
        {"values": {payload: {"equals": payload}}},
        {
            "left": {"request_response_rmt": {"user_id": {"ilike": payload}}},
            "operator": "or",
            "right": "all",
        },
    ]
    for node in filters:
        try:
            rows = await mine.read(requests.query_requests, RequestQuery(filter=node))
        except InvalidFilter:
            continue
        assert all(r["organization_id"] == "org-a" for r in rows)
    for sort in ({"properties": {payload: "asc"}}, {payload: "asc"}):
        try:
            await mine.read(requests.query_requests, RequestQuery(sort=sort))
        except Exception as exc:  # only our own 400 is acceptable, never a database error
            assert isinstance(exc, BadRequest), exc
    try:
        assert await mine.read(sessions.query_sessions, SessionQuery(search=payload)) == []
    except BadRequest:
        assert "\x00" in payload
    # The table is still there, and so is the other organization's row.
    assert await log.org("org-b").read(requests.count_requests, "all", None) == 1
    if "\x00" not in payload:
        found = await mine.read(
            requests.query_requests,
            RequestQuery(
                filter={"request_response_rmt": {"properties": {payload: {"equals": "v"}}}}
            ),
        )
        assert [r["request_id"] for r in found] == ["mine"]


@pytest.mark.parametrize("payload", INJECTIONS)
async def test_injection_in_keys_values_and_sort_is_data_or_a_400(
    store: Store, payload: str
) -> None:
    await check_injection(store.log, payload)


async def test_nul_characters_are_stored_not_refused(store: Store) -> None:
    await store.log.write_batch(
        [
            row(
                "nul",
                "org-n",
                user_id="a\x00b",
                properties={"k\x00": "v\x00"},
                request_body='{"x": "\x00"}',
                response_body='{"y": "\x00"}',
            ),
            row("nul-answer", "org-n", request_body=None, response_body="\x00"),
        ]
    )
    stored = await store.log.org("org-n").read(requests.get_request, "nul")
    assert stored is not None
    assert stored["user_id"] == "a\ufffdb"
    assert stored["properties"] == {"k\ufffd": "v\ufffd"}
    assert stored["request_body"] == '{"x": "\ufffd"}'
    assert stored["response_body"] == '{"y": "\ufffd"}'
    answer = await store.log.org("org-n").read(requests.get_request, "nul-answer")
    assert answer is not None
    assert (answer["request_body"], answer["response_body"]) == (None, "\ufffd")


async def test_a_nul_in_a_session_property_is_cleaned_in_the_session_columns_too(
    store: Store,
) -> None:
    # The session columns copy the Helicone-Session-* properties: cleaned as the properties
    # are (PostgreSQL refused the batch otherwise), and the summary keyed by the same text.
    session = {"Helicone-Session-Id": "s\x00", "Helicone-Session-Name": "n\x00"}
    await store.log.write_batch([row(f"nul-{i}", "org-ns", properties=session) for i in (1, 2)])
    for use_summary in (True, False):
        found = await store.log.org("org-ns").read(
            sessions.query_sessions, SessionQuery(use_summary=use_summary)
        )
        assert [(s["session_id"], s["session_name"], s["total_requests"]) for s in found] == [
            ("s\ufffd", "n\ufffd", 2)
        ]
