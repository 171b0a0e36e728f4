"""The log writer's upsert: many rows a statement, every row stored, a replay replaces them all."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any, cast

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from helioscope.api._helioscope_shape import to_helioscope_request
from helioscope.store import LogRow, Store, is_transient
from helioscope.store._dialects import SqlDialect
from helioscope.store.log import requests
from helioscope.store.log.write import _BODY_COLUMNS, by_org
from helioscope.store.tables.log import request_body, request_response

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def test_keys_are_grouped_by_organization_in_their_order() -> None:
    assert by_org([]) == {}
    assert by_org([("a", "1"), ("a", "3"), ("a", "2")]) == {"a": ["1", "3", "2"]}
    mixed = by_org([("a", "1"), ("b", "2"), ("a", "3")])
    assert mixed == {"a": ["1", "3"], "b": ["2"]}


def test_a_batch_goes_out_in_statements_of_100_10_and_1_rows_in_order() -> None:
    for pg in (False, True):
        upsert = SqlDialect("postgresql" if pg else "sqlite").bulk_upsert(
            request_body, ("organization_id", "request_id"), _BODY_COLUMNS
        )
        rows = [(f"r{i}", "org", f"req{i}", None) for i in range(237)]
        statements = upsert.statements(rows)
        assert [(sql.count("), ("), len(params)) for sql, params in statements] == [
            (99, 2),  # two statements of 100 rows
            (9, 3),  # three of 10
            (0, 7),  # seven of one
        ]
        assert [len(p) for _, params in statements for p in params] == [400] * 2 + [40] * 3 + [
            4
        ] * 7
        flat = [value for _, params in statements for p in params for value in p]
        # (On SQLite a column NULL in every row of a statement binds NaN: stored as NULL.)
        assert [None if value != value else value for value in flat] == [
            value for row in rows for value in row
        ]
        assert ("($397, $398, $399, $400) ON CONFLICT" in statements[0][0]) is pg


def _row(n: int, model: str) -> LogRow:
    return LogRow(
        request_id=f"req-{n:04d}",
        organization_id="org-w",
        request_created_at=NOW + dt.timedelta(seconds=n),
        status=200,
        provider="OPENAI",
        model=model,
        request_body=f'{{"n": {n}}}',
        response_body=model,
    )


async def test_a_batch_of_many_rows_is_stored_and_a_replay_replaces_every_row(
    store: Store,
) -> None:
    # 237 rows: statements of 100, 10 and 1 rows; then the same keys again, with new values.
    await store.log.write_batch([_row(n, "first") for n in range(237)])
    await store.log.write_batch([_row(n, "second") for n in range(237)])
    async with store.engine.connect() as conn:
        for table in (request_response, request_body):
            assert (await conn.execute(select(func.count()).select_from(table))).scalar() == 237
        models = await conn.execute(select(request_response.c.model).distinct())
        assert models.scalars().all() == ["second"]
    for n in (0, 99, 100, 209, 230, 236):
        stored = await store.log.org("org-w").read(requests.get_request, f"req-{n:04d}")
        assert stored is not None
        assert stored["request_body"] == f'{{"n": {n}}}'
        assert stored["response_body"] == "second"


def test_on_sqlite_a_column_null_in_every_row_binds_nan_and_booleans_bind_integers() -> None:
    # CPython's sqlite3 binds None and bool through its adapter table (~1,200 instructions a
    # value); NaN (a float) and int bind directly, and SQLite stores a NaN as NULL.
    columns = tuple(c.name for c in request_response.columns)
    at = {name: columns.index(name) for name in columns}

    def row(n: int, **values: Any) -> tuple[Any, ...]:
        base: dict[str, Any] = dict.fromkeys(columns)
        base.update(organization_id="org", request_id=f"r{n}", is_stream=False)
        base.update(cache_enabled=False, threat=None, user_id=None)
        base.update(values)
        return tuple(base[name] for name in columns)

    key = ("organization_id", "request_id")
    rows = [row(n, threat=n == 3, user_id="u" if n == 4 else None) for n in range(10)]
    rows[7] = row(7, is_stream=True, threat=None)
    sqlite = SqlDialect("sqlite").bulk_upsert(request_response, key, columns)
    [(_, [params])] = sqlite.statements(rows)
    values = {name: params[i :: len(columns)] for name, i in at.items()}
    assert all(math.isnan(v) for v in values["error"])  # NULL in every row
    assert values["user_id"] == (None,) * 4 + ("u",) + (None,) * 5  # NULL in some: kept
    assert values["is_stream"] == (0,) * 7 + (1,) + (0,) * 2
    assert all(type(v) is int for v in values["is_stream"] + values["cache_enabled"])
    assert values["threat"] == (False,) * 3 + (True,) + (False,) * 3 + (None,) + (False,) * 2
    assert values["request_id"] == tuple(f"r{n}" for n in range(10))
    # PostgreSQL binds every value as it is (asyncpg wants booleans, and NULL as None).
    postgres = SqlDialect("postgresql").bulk_upsert(request_response, key, columns)
    [(_, [pg_params])] = postgres.statements(rows)
    assert pg_params == tuple(value for r in rows for value in r)


def test_sqlite_stores_a_bound_nan_as_null(tmp_path: Any) -> None:
    # What the writer's NaN for NULL relies on (SQLite never stores a NaN: a NaN bound, or
    # computed, is NULL), whatever the column's type.
    import sqlite3

    con = sqlite3.connect(tmp_path / "nan.db")
    con.execute("CREATE TABLE t (a TEXT, b BIGINT, c BOOLEAN, d JSON, e)")
    con.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)", (math.nan,) * 5)
    stored = con.execute("SELECT typeof(a), typeof(b), typeof(c), typeof(d), typeof(e) FROM t")
    assert stored.fetchone() == ("null",) * 5
    con.close()


def _bare(n: int) -> LogRow:
    return LogRow(
        request_id=f"opt-{n:02d}",
        organization_id="org-o",
        request_created_at=NOW + dt.timedelta(seconds=n),
        status=200,
        provider="OPENAI",
    )


def _full(n: int) -> LogRow:
    # Every optional field set (the booleans to their non-default value).
    return dataclasses.replace(
        _bare(n),
        model="gpt-4o",
        response_created_at=NOW + dt.timedelta(seconds=n, milliseconds=5),
        latency=5,
        time_to_first_token=2,
        request_model="gpt-4o",
        response_model="gpt-4o-2024",
        model_override="gpt-4o-x",
        user_id="user-1",
        target_url="https://api.openai.com/v1/chat/completions",
        path="/v1/chat/completions",
        is_stream=True,
        prompt_tokens=11,
        completion_tokens=7,
        total_tokens=18,
        prompt_cache_read_tokens=1,
        prompt_cache_write_tokens=2,
        reasoning_tokens=3,
        prompt_audio_tokens=4,
        completion_audio_tokens=5,
        cost=1_500,
        cache_enabled=True,
        cache_reference_id="cache-ref",
        threat=n % 2 == 0,
        country_code="FR",
        properties={"Helicone-Session-Id": f"s-{n}", "Helicone-Session-Name": "n", "k": "v"},
        scores={"accuracy": 1},
        prompt_id="prompt",
        prompt_version="1",
        request_body='{"a": 1}',
        response_body='{"b": 2}',
        request_body_size=8,
        response_body_size=8,
        request_referrer="https://referrer",
        helicone_api_key_id=9,
        error="upstream error",
        prompt_inputs={"x": "1"},
    )


def _expected(row: LogRow) -> dict[str, Any]:
    session = row.properties.get("Helicone-Session-Id")
    return {
        **{f.name: getattr(row, f.name) for f in dataclasses.fields(LogRow)},
        "cost": None if row.cost is None else row.cost / 1e9,  # the store answers USD
        "session_id": session,
        "session_name": row.properties.get("Helicone-Session-Name") if session else None,
        "session_path": None,
    }


async def test_optional_columns_absent_then_set_then_absent_again_read_back_as_written(
    store: Store,
) -> None:
    # On SQLite a column NULL in every row of a statement binds differently from one set in
    # some rows (NaN, not None) and a boolean column as integers: each pass is a batch of 12
    # rows (a statement of 10, two of 1), every row alike, then half and half.
    count = 12
    bare = [_bare(n) for n in range(count)]
    full = [_full(n) for n in range(count)]
    mixed = [full[n] if n % 2 else bare[n] for n in range(count)]
    # (A replay without bodies keeps the bodies stored before: a row's bodies are upserted
    # only when it has one.)
    bodies: dict[str, tuple[str | None, str | None]] = {}
    for batch in (bare, full, bare, mixed, full):
        await store.log.write_batch(batch)
        for row in batch:
            if row.request_body is not None or row.response_body is not None:
                bodies[row.request_id] = (row.request_body, row.response_body)
        stored = await store.log.org("org-o").read(
            requests.requests_by_ids, [row.request_id for row in batch]
        )
        assert len(stored) == count
        by_id = {found["request_id"]: found for found in stored}
        for row in batch:
            found = by_id[row.request_id]
            expected = _expected(row)
            expected["request_body"], expected["response_body"] = bodies.get(
                row.request_id, (None, None)
            )
            assert {k: found[k] for k in expected} == expected
            shaped = to_helioscope_request(found)
            assert shaped.is_stream is row.is_stream
            assert shaped.cache_enabled is row.cache_enabled
            assert shaped.threat is row.threat


async def test_a_row_the_store_refuses_fails_as_sqlalchemy_reports_it(store: Store) -> None:
    # The writer tells a refused row (never retried as a whole: isolated, dead-lettered) from
    # an outage (retried) by SQLAlchemy's error classes, whichever way the upsert reached
    # the driver.
    refused = dataclasses.replace(_bare(1), provider=cast(str, None))  # NOT NULL
    with pytest.raises(IntegrityError) as raised:
        await store.log.write_batch([refused])
    assert not is_transient(raised.value)
    assert await store.log.org("org-o").read(requests.get_request, refused.request_id) is None
