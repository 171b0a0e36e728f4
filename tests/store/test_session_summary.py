"""The session summary answers exactly what aggregating the log answers: random sessions,
windows that cut through them, session filters, replays and rewrites."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helioscope.store import LogRow, SessionQuery, Store
from helioscope.store.log import requests, sessions

BASE = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)


def rows(org: str, rng: random.Random, n: int) -> list[LogRow]:
    out = []
    for i in range(n):
        session = rng.randint(0, 14)
        properties = {"Helicone-Session-Id": f"s{session}"}
        if session % 3:
            # Sessions 5 and 10 carry two names: a (session, name) pair inside the window can
            # belong to a session whose other name straddles it.
            name = session if session % 5 else i
            properties["Helicone-Session-Name"] = f"name{name % 2}"
        out.append(
            LogRow(
                request_id=f"{org}-{i}",
                organization_id=org,
                request_created_at=BASE + dt.timedelta(minutes=session * 7 + rng.randint(0, 40)),
                status=200,
                provider="OPENAI",
                model="m",
                latency=rng.choice([None, 100, 250]),
                prompt_tokens=rng.choice([None, 10, 20]),
                completion_tokens=rng.randint(0, 9),
                cost=rng.choice([None, 1000, 5000]),
                properties=properties,
            )
        )
    return out


MINUTE = st.integers(-10, 160)
FILTERS = st.sampled_from(
    [
        "all",
        {"sessions_request_response_rmt": {"session_total_requests": {"gte": 3}}},
        {"sessions_request_response_rmt": {"session_total_cost": {"lt": 0.00002}}},
        {"sessions_request_response_rmt": {"session_session_name": {"equals": "name1"}}},
        {
            "left": {"sessions_request_response_rmt": {"total_tokens": {"gt": 30}}},
            "operator": "or",
            "right": {
                "sessions_request_response_rmt": {
                    "session_created_at": {"gt": "2026-02-01T01:00:00Z"}
                }
            },
        },
    ]
)


def canonical(sessions: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (
            s["session_id"],
            s["session_name"],
            s["created_at"],
            s["latest_request_created_at"],
            int(s["total_cost"] or 0),
            s["total_requests"],
            s["prompt_tokens"],
            s["completion_tokens"],
            s["total_tokens"],
            round(float(s["avg_latency"] or 0), 6),
        )
        for s in sessions
    ]


def test_summary_equals_aggregation(database_url: str) -> None:
    loop = asyncio.new_event_loop()
    store = Store.open(database_url)
    rng = random.Random(42)
    loop.run_until_complete(store.migrate())
    data = rows("org-s", rng, 150)
    # Written in several batches, with some rows sent again and some moved to another session.
    loop.run_until_complete(store.log.write_batch(data[:60]))
    loop.run_until_complete(store.log.write_batch(data[40:120]))
    moved = [dataclasses.replace(r, properties={"Helicone-Session-Id": "s99"}) for r in data[:5]]
    loop.run_until_complete(store.log.write_batch(moved + data[120:]))
    loop.run_until_complete(
        store.log.org("org-s").write(
            requests.set_property, data[6].request_id, "Helicone-Session-Id", "s42"
        )
    )

    @settings(
        max_examples=120,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        start=st.one_of(st.none(), MINUTE),
        length=st.integers(1, 200),
        node=FILTERS,
        search=st.sampled_from(["", "s1", "name"]),
        limit=st.integers(1, 20),
        offset=st.integers(0, 5),
    )
    def check(
        start: int | None, length: int, node: Any, search: str, limit: int, offset: int
    ) -> None:
        begin = None if start is None else BASE + dt.timedelta(minutes=start)
        end = None if start is None else BASE + dt.timedelta(minutes=start + length)
        query = SessionQuery(
            filter=node, start=begin, end=end, search=search, limit=limit, offset=offset
        )
        fast = loop.run_until_complete(store.log.org("org-s").read(sessions.query_sessions, query))
        slow = loop.run_until_complete(
            store.log.org("org-s").read(
                sessions.query_sessions, dataclasses.replace(query, use_summary=False)
            )
        )
        assert canonical(fast) == canonical(slow)

    try:
        check()
    finally:
        loop.run_until_complete(store.close())
        loop.close()


def test_one_session_under_two_names_started_together_pages_in_name_order(
    database_url: str,
) -> None:
    """Two (session, name) pairs that tie on when they started: every page, from the summary
    or from the log, lists them by name (the order was the engine's; PostgreSQL's differed)."""
    loop = asyncio.new_event_loop()
    store = Store.open(database_url)
    try:
        loop.run_until_complete(store.migrate())
        tied = [
            LogRow(
                request_id=f"tie-{name}-{n}",
                organization_id="org-tie",
                request_created_at=BASE + dt.timedelta(minutes=n),
                status=200,
                provider="OPENAI",
                model="m",
                properties={"Helicone-Session-Id": "s1", "Helicone-Session-Name": name},
            )
            for name in ("b", "a", "c")
            for n in range(2)
        ]
        loop.run_until_complete(store.log.write_batch(tied))
        for use_summary in (True, False):
            pages = [
                loop.run_until_complete(
                    store.log.org("org-tie").read(
                        sessions.query_sessions,
                        SessionQuery(limit=1, offset=offset, use_summary=use_summary),
                    )
                )
                for offset in range(3)
            ]
            assert [page[0]["session_name"] for page in pages] == ["a", "b", "c"]
    finally:
        loop.run_until_complete(store.close())
        loop.close()
