"""The filter compiler: every table and column Helicone's seed names, and every way to get it
wrong (a 400 that names the node's path; nothing user-supplied in SQL text)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from helioscope.errors import BadRequest, InvalidFilter
from helioscope.store import LogRow, RequestQuery, SessionQuery, Store
from helioscope.store._dialects import SqlDialect
from helioscope.store.filters import compile_filter
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


@pytest.mark.parametrize(
    ("node", "message"),
    [
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
    ],
)
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


@pytest.mark.parametrize("payload", INJECTIONS)
async def test_injection_in_keys_values_and_sort_is_data_or_a_400(
    store: Store, payload: str
) -> None:
    await store.log.write_batch(
        [
            row(
                "mine",
                "org-a",
                properties={payload.replace("\x00", ""): "v", "env": payload.replace("\x00", "")},
            ),
            row("theirs", "org-b", properties={"env": "x"}),
        ]
    )
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
            rows = await store.log.org("org-a").read(
                requests.query_requests, RequestQuery(filter=node)
            )
        except InvalidFilter:
            continue
        assert all(r["organization_id"] == "org-a" for r in rows)
    for sort in ({"properties": {payload: "asc"}}, {payload: "asc"}):
        try:
            await store.log.org("org-a").read(requests.query_requests, RequestQuery(sort=sort))
        except Exception as exc:  # only our own 400 is acceptable, never a database error
            assert isinstance(exc, BadRequest), exc
    try:
        assert (
            await store.log.org("org-a").read(sessions.query_sessions, SessionQuery(search=payload))
            == []
        )
    except BadRequest:
        assert "\x00" in payload
    # The table is still there, and so is the other organization's row.
    assert await store.log.org("org-b").read(requests.count_requests, "all", None) == 1
    if "\x00" not in payload:
        found = await store.log.org("org-a").read(
            requests.query_requests,
            RequestQuery(
                filter={"request_response_rmt": {"properties": {payload: {"equals": "v"}}}}
            ),
        )
        assert [r["request_id"] for r in found] == ["mine"]


async def test_nul_characters_are_stored_not_refused(store: Store) -> None:
    await store.log.write_batch(
        [
            row(
                "nul",
                "org-n",
                user_id="a\x00b",
                properties={"k\x00": "v\x00"},
                request_body='{"x": "\x00"}',
            )
        ]
    )
    stored = await store.log.org("org-n").read(requests.get_request, "nul")
    assert stored is not None
    assert stored["user_id"] == "a\ufffdb"
    assert stored["properties"] == {"k\ufffd": "v\ufffd"}
    assert stored["request_body"] == '{"x": "\ufffd"}'
