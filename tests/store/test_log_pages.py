"""Keyset pages of the log: every matching row once, in time order, at any page size."""

from __future__ import annotations

import datetime as dt

import pytest

from helioscope.errors import BadRequest
from helioscope.store import LogCursor, LogPageQuery, LogRow, Store, keys
from helioscope.store.log.pages import cursor_after, log_page

T0 = dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC)


def row(org_id: str, index: int) -> LogRow:
    # Three rows per second: pages must break ties by request id, never repeat or skip one.
    created = T0 + dt.timedelta(seconds=index // 3)
    return LogRow(
        request_id=f"req-{index:03d}",
        organization_id=org_id,
        request_created_at=created,
        status=200,
        provider="OPENAI",
        model="gpt-4o" if index % 2 else "gpt-4o-mini",
        request_body=f'{{"n": {index}}}',
    )


async def walk(store: Store, org_id: str, tree: object, limit: int) -> list[str]:
    seen: list[str] = []
    after: LogCursor | None = None
    while True:
        query = LogPageQuery(filter=tree, after=after, limit=limit)
        page = await store.log.org(org_id).read(log_page, query)
        seen += [r["request_id"] for r in page]
        if len(page) < limit:
            return seen
        after = cursor_after(page)


async def test_pages_cover_the_log_once_in_time_order(store: Store) -> None:
    org = await store.write(keys.get_or_create_org, "acme")
    other = await store.write(keys.get_or_create_org, "other")
    # Inserted out of order, with another organization's rows at the same times.
    rows = [row(org.id, i) for i in reversed(range(40))] + [row(other.id, i) for i in range(10)]
    await store.log.write_batch(rows)

    expected = [f"req-{i:03d}" for i in range(40)]
    for limit in (1, 7, 40, 1000):
        assert await walk(store, org.id, "all", limit) == expected

    gpt4o = {"request_response_rmt": {"model": {"equals": "gpt-4o"}}}
    assert await walk(store, org.id, gpt4o, 4) == [f"req-{i:03d}" for i in range(1, 40, 2)]


async def test_a_page_carries_bodies_only_when_asked(store: Store) -> None:
    org = await store.write(keys.get_or_create_org, "acme")
    await store.log.write_batch([row(org.id, 1)])
    log = store.log.org(org.id)
    with_bodies = await log.read(log_page, LogPageQuery())
    assert with_bodies[0]["request_body"] == '{"n": 1}'
    without = await log.read(log_page, LogPageQuery(include_bodies=False))
    assert "request_body" not in without[0]


async def test_a_page_refuses_a_bad_size_or_filter(store: Store) -> None:
    log = store.log.org((await store.write(keys.get_or_create_org, "acme")).id)
    with pytest.raises(BadRequest, match="limit must be 1 to"):
        await log.read(log_page, LogPageQuery(limit=0))
    with pytest.raises(BadRequest, match="latnecy"):
        bad = {"request_response_rmt": {"latnecy": {"gt": 1}}}
        await log.read(log_page, LogPageQuery(filter=bad))
