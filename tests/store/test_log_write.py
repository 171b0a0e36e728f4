"""The log writer's upsert: many rows a statement, every row stored, a replay replaces them all."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from helioscope.store import LogRow, Store
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
        assert flat == [value for row in rows for value in row]
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
