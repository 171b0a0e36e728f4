"""Every column of the filter language with every operator it takes, run on both engines: the
rows (sessions, users) the store returns must be the ones the reference evaluator picks."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest

from helioscope.store import (
    LogRow,
    RequestQuery,
    SessionQuery,
    Store,
    UserQuery,
    hash_api_key,
    keys,
)
from helioscope.store.filters import MAP_TABLES, OPERATORS, TABLES, Kind
from helioscope.store.filters._fields import SESSION_AGGREGATES, USER_AGGREGATES, Field, MapField
from helioscope.store.log import requests, sessions, users
from tests.store.filter_columns import (
    MAP_FIELDS,
    ROW_FIELDS,
    SAMPLES,
    Related,
    session_values,
    user_values,
)
from tests.store.filter_reference import compare

# These routes read the log: they run with it in ClickHouse too (tests/conftest.py).
pytestmark = pytest.mark.clickhouse

T0 = dt.datetime(2026, 2, 3, 10, 0, tzinfo=dt.UTC)
KINDS = {
    Kind.TEXT: "text",
    Kind.VECTOR: "text",
    Kind.NUMBER: "number",
    Kind.TIMESTAMP: "time",
    Kind.TIMESTAMP_TEXT: "time",
    Kind.BOOL: "bool",
}


def _session(sid: str, name: str) -> dict[str, str]:
    return {"Helicone-Session-Id": sid, "Helicone-Session-Name": name, "Helicone-Session-Path": "/"}


def seed_rows(org: str, key_id: int | None) -> list[LogRow]:
    """Four varied rows: most columns differ between them, and some are NULL somewhere."""
    at = [T0, T0 + dt.timedelta(days=1, minutes=5), T0 + dt.timedelta(minutes=9), T0]
    return [
        LogRow(
            request_id=f"r0-{org[:8]}",
            organization_id=org,
            request_created_at=at[0],
            response_created_at=at[0] + dt.timedelta(seconds=1),
            status=200,
            provider="OPENAI",
            model="gpt-4o-mini",
            request_model="gpt-4o-mini",
            response_model="gpt-4o-mini-2024",
            user_id="alice",
            target_url="https://api.openai.com",
            path="/v1/chat/completions",
            latency=120,
            time_to_first_token=30,
            prompt_tokens=10,
            completion_tokens=5,
            prompt_cache_read_tokens=2,
            prompt_cache_write_tokens=1,
            cost=2_000_000,
            cache_enabled=True,
            threat=False,
            country_code="US",
            properties={
                "env": "Prod",
                "Helicone-Node-Id": "node-a",
                "Helicone-Job-Id": "job-a",
                "Helicone-Rate-Limit-Status": "rate_limited",
                **_session("s1", "Trip"),
            },
            scores={"quality": 7},
            prompt_id="greeting",
            prompt_version="v1",
            prompt_inputs={"city": "Paris"},
            request_body='{"messages": "Hello Paris"}',
            response_body='{"choices": "Bonjour"}',
            request_referrer="https://app.example",
            helicone_api_key_id=key_id,
        ),
        LogRow(
            request_id=f"r1-{org[:8]}",
            organization_id=org,
            request_created_at=at[1],
            response_created_at=at[1] + dt.timedelta(seconds=3),
            status=500,
            provider="OPENAI",
            model="gpt-4o",
            request_model="gpt-4o",
            user_id="bob",
            latency=900,
            prompt_tokens=20,
            completion_tokens=10,
            prompt_cache_read_tokens=0,
            cost=4_000_000,
            threat=True,
            country_code="FR",
            properties={"env": "dev", "Helicone-Node-Id": "node-b", **_session("s1", "Trip")},
            scores={"quality": 3},
            prompt_id="greeting",
            prompt_version="v2",
            prompt_inputs={"city": "Rome"},
            request_body='{"messages": "Ciao Rome"}',
            response_body='{"choices": "Ciao"}',
        ),
        LogRow(
            request_id=f"r2-{org[:8]}",
            organization_id=org,
            request_created_at=at[2],
            status=200,
            provider="ANTHROPIC",
            model="claude-3-5-haiku",
            response_model="claude-3-5-haiku",
            model_override="claude-override",
            user_id="alice",
            latency=5,
            prompt_tokens=10,
            completion_tokens=5,
            cache_reference_id=f"r0-{org[:8]}",
            threat=False,
            properties={"env": "prod", **_session("s2", "Chat")},
        ),
        LogRow(
            request_id=f"r3-{org[:8]}",
            organization_id=org,
            request_created_at=at[3],
            status=429,
            provider="OPENAI",
            model="gpt-4o",
            path="/v1/responses",
        ),
    ]


async def seed(store: Store) -> tuple[str, list[LogRow], Related]:
    """The sweep's organization, its rows and what is kept beside them."""
    org = (await store.write(keys.get_or_create_org, "sweep")).id
    other = (await store.write(keys.get_or_create_org, "other")).id
    key = await store.org(org).write(keys.create_api_key)
    other_key = await store.org(other).write(keys.create_api_key)
    rows = seed_rows(org, key.id)
    # Another organization with the same values: no answer may include its rows.
    await store.log.write_batch(rows + seed_rows(other, other_key.id))
    related = Related(key_hashes={key.id: hash_api_key(key.key)}, session_tags={"s1": "vip"})
    for each in (org, other):
        log = store.log.org(each)
        await log.write(requests.set_feedback, f"r0-{each[:8]}", True)
        await log.write(requests.set_feedback, f"r1-{each[:8]}", False)
        await log.write(sessions.set_session_tag, "s1", "vip")
    for row in rows[:2]:
        stored = await store.log.org(org).read(requests.get_request, row.request_id)
        assert stored is not None
        related.feedback[row.request_id] = (
            stored["feedback_id"],
            _utc(stored["feedback_created_at"]),
            stored["feedback_rating"],
        )
    return org, rows, related


def _utc(value: Any) -> dt.datetime:
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def operand(op: str, kind: Kind, sample: Any) -> Any:
    """The value a leaf compares with: built from a row's own value so that some rows match."""
    if kind in (Kind.TIMESTAMP, Kind.TIMESTAMP_TEXT):
        return sample.isoformat()
    if kind in (Kind.TEXT, Kind.VECTOR):
        text = str(sample)
        if op == "like":
            return text[:3] + "%"
        if op == "ilike":
            return (text[:3] + "%").swapcase()
        if op in ("contains", "not-contains"):
            return text[1:4].swapcase() if len(text) > 3 else text
    return sample


def expected(op: str, value: Any, actual: Any, kind: str, scale: int) -> bool:
    """The reference's answer for one value; cost compares in its stored unit, floored."""
    if scale != 1 and value != "null":
        value = math.floor(float(value) * scale)
    return compare(op, actual, value, kind)


def _sample(values: list[Any]) -> Any:
    """A value some row has: the first one that is not NULL, preferably not empty either."""
    present = [v for v in values if v is not None]
    return next((v for v in present if v != ""), present[0])


def _ops(kind: Kind) -> list[str]:
    return [op for op, operator in OPERATORS.items() if kind in operator.kinds]


async def _request_ids(store: Store, org: str, node: Any) -> set[str]:
    query = RequestQuery(filter=node, limit=1000, include_bodies=False)
    return {r["request_id"] for r in await store.log.org(org).read(requests.query_requests, query)}


def _leaves() -> list[tuple[str, str, Field | MapField]]:
    plain = [(t, c, f) for t, columns in TABLES.items() for c, f in columns.items()]
    return plain + [(t, "", f) for t, f in MAP_TABLES.items()]


def test_every_allowlisted_column_has_a_reference() -> None:
    for table, column, found in _leaves():
        if isinstance(found, MapField):
            assert (table, column or None) in MAP_FIELDS, (table, column)
        elif found.aggregate is None:
            assert (table, column) in ROW_FIELDS, (table, column)


# Each sweep runs in PARTS tests, each over every PARTS-th column, so that xdist spreads a sweep
# over its workers (on ClickHouse one took ~20 s alone: ~12 ms of planning per statement).
PARTS = 4


@pytest.mark.parametrize("part", range(PARTS))
async def test_every_allowlisted_column_compiles_with_each_operator_it_takes(
    store: Store, part: int
) -> None:
    org, rows, related = await seed(store)
    checked = 0
    for table, column, found in _leaves()[part::PARTS]:
        if isinstance(found, MapField):
            kind_name, key, read_key = MAP_FIELDS[(table, column or None)]
            values = [read_key(row, key) for row in rows]
            scale = 1
        elif found.aggregate is None:
            kind_name, reader = ROW_FIELDS[(table, column)]
            values = [reader(row, related) for row in rows]
            scale = found.scale
            if kind_name == "cost":
                kind_name = "number"  # in its stored unit: USD x 1e9
        else:
            continue  # per-session and per-user values: see the tests below
        sample = SAMPLES.get((table, column), _sample(values))
        if scale != 1:
            sample = sample / scale
        for op in _ops(found.kind):
            value = operand(op, found.kind, sample)
            leaf: Any = {op: value}
            if isinstance(found, MapField):
                leaf = {key: leaf}
            node = {table: {column: leaf}} if column else {table: leaf}
            want = {
                row.request_id
                for row, actual in zip(rows, values, strict=True)
                if expected(op, value, actual, kind_name, scale)
            }
            assert await _request_ids(store, org, node) == want, node
            checked += 1
    assert checked > 200 // PARTS  # every column, each operator it takes


async def test_every_session_column_matches_the_reference(store: Store) -> None:
    org, rows, _ = await seed(store)
    per_session = session_values(rows)
    for column, found in SESSION_AGGREGATES.items():
        if not isinstance(found, Field) or found.aggregate is None:
            continue
        actual = {sid: values[found.aggregate] for sid, values in per_session.items()}
        sample = _sample(list(actual.values()))
        sample = sample / found.scale if found.scale != 1 else sample
        for op in _ops(found.kind):
            value = operand(op, found.kind, sample)
            node = {"sessions_request_response_rmt": {column: {op: value}}}
            kind = KINDS[found.kind]
            want = {s for s, a in actual.items() if expected(op, value, a, kind, found.scale)}
            for use_summary in (True, False):
                query = SessionQuery(filter=node, use_summary=use_summary)
                answered = await store.log.org(org).read(sessions.query_sessions, query)
                got = {s["session_id"] for s in answered}
                assert got == want, (node, use_summary)


@pytest.mark.parametrize("part", range(PARTS))
async def test_every_user_column_matches_the_reference(store: Store, part: int) -> None:
    org, rows, _ = await seed(store)
    per_user = user_values(rows)
    for column, found in list(USER_AGGREGATES.items())[part::PARTS]:
        assert isinstance(found, Field) and found.aggregate is not None
        actual = {user: values[found.aggregate] for user, values in per_user.items()}
        sample = _sample(list(actual.values()))
        sample = sample / found.scale if found.scale != 1 else sample
        for op in _ops(found.kind):
            value = operand(op, found.kind, sample)
            node = {"users_view": {column: {op: value}}}
            kind = KINDS[found.kind]
            want = {u for u, a in actual.items() if expected(op, value, a, kind, found.scale)}
            got, _count = await store.log.org(org).read(users.user_metrics, UserQuery(filter=node))
            assert {u["user_id"] for u in got} == want, node
