"""Random filter trees over random logs: the SQL answer must equal the reference's, on both
engines, and never include another organization's rows."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helioscope.store import LogRow, RequestQuery, Store
from helioscope.store.log import requests
from tests.store.filter_reference import COLUMNS, evaluate

BASE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
WORDS = ["alpha", "Beta", "GAMMA", "a%b", "x_y", "", "prod", "Prod"]
MODELS = ["gpt-4o-mini", "gpt-4o", "Claude-3", "llama_3"]
USERS = [None, "alice", "Alice", "bob", ""]


def make_rows(org: str, rng: random.Random, n: int) -> list[LogRow]:
    rows = []
    for i in range(n):
        properties = {}
        for key in ("env", "team"):
            if rng.random() < 0.6:
                properties[key] = rng.choice(WORDS)
        scores = {"quality": rng.randint(0, 10)} if rng.random() < 0.5 else {}
        prompt = rng.choice([None, 0, 5, 120, 999])
        rows.append(
            LogRow(
                request_id=f"{org[:4]}-{i:04d}",
                organization_id=org,
                request_created_at=BASE + dt.timedelta(minutes=rng.randint(0, 600)),
                status=rng.choice([200, 200, 400, 429, 500, -3]),
                provider="OPENAI",
                model=rng.choice(MODELS),
                latency=rng.choice([None, 0, 150, 999, 2500]),
                user_id=rng.choice(USERS),
                prompt_tokens=prompt,
                completion_tokens=rng.choice([None, 0, 7, 300]),
                cost=rng.choice([None, 0, 1500, 2_000_000, 999_999_999]),
                threat=rng.choice([None, True, False]),
                properties=properties,
                scores=scores,
                request_body=rng.choice([None, '{"q": "Hello World"}', '{"q": "100% sure_thing"}']),
                target_url=rng.choice([None, "https://api.openai.com/v1/chat", "http://x/y"]),
            )
        )
    return rows


TEXT_VALUES = st.sampled_from(
    [
        "alpha",
        "Alpha",
        "a%b",
        "a\\%b",
        "%a%",
        "_lpha",
        "%",
        "x_y",
        "x\\_y",
        "prod",
        "",
        "null",
        "__empty__",
        "gpt-4o%",
        "%4O%",
        "Hello",
        "100%",
        "sure_",
        "alice",
        "Alice",
    ]
)
NUMBER_VALUES = st.sampled_from([0, 5, 7, 150, 149.5, 999, 1000, "null", -3, 200, 429])
COST_VALUES = st.sampled_from([0, 0.0000015, 0.002, 0.001999, 1, "null"])
TIME_VALUES = st.sampled_from(
    [
        "2026-01-01T02:00:00Z",
        "2026-01-01T05:00:00+00:00",
        "2026-01-01T03:30:00",
        int((BASE + dt.timedelta(hours=4)).timestamp() * 1000),
    ]
)
OPS = {
    "text": ["equals", "not-equals", "like", "ilike", "contains", "not-contains"],
    "number": ["equals", "not-equals", "gt", "gte", "lt", "lte"],
    "time": ["gt", "gte", "lt", "lte"],
    "bool": ["equals"],
}


def _plain(op: str, value: Any) -> Any:
    # "null" is special with equals/not-equals only; elsewhere a number column rejects it.
    return 0 if value == "null" and op not in ("equals", "not-equals") else value


@st.composite
def leaves(draw: st.DrawFn) -> dict[str, Any]:
    column = draw(st.sampled_from([*COLUMNS, "cost", "properties", "scores"]))
    if column == "properties":
        # Property names are case-insensitive: "Env" and "TEAM" find the stored "env", "team".
        key = draw(st.sampled_from(["env", "team", "missing", "Env", "TEAM"]))
        op = draw(st.sampled_from(OPS["text"]))
        return {"request_response_rmt": {"properties": {key: {op: draw(TEXT_VALUES)}}}}
    if column == "scores":
        op = draw(st.sampled_from(OPS["number"]))
        score = draw(st.sampled_from([0, 5, 10]))
        return {"request_response_rmt": {"scores": {"quality": {op: score}}}}
    if column == "cost":
        op = draw(st.sampled_from(OPS["number"]))
        return {"request_response_rmt": {"cost": {op: _plain(op, draw(COST_VALUES))}}}
    kind = COLUMNS[column][0]
    if column == "request_body":
        op = "contains"
    else:
        op = draw(st.sampled_from(OPS[kind]))
    value: Any
    if kind == "text":
        value = draw(TEXT_VALUES)
    elif kind == "number":
        value = _plain(op, draw(NUMBER_VALUES))
    elif kind == "time":
        value = draw(TIME_VALUES)
    else:
        value = draw(st.booleans())
    return {"request_response_rmt": {column: {op: value}}}


trees = st.recursive(
    st.one_of(st.just("all"), leaves()),
    lambda inner: st.builds(
        lambda left, op, right: {"left": left, "operator": op, "right": right},
        inner,
        st.sampled_from(["and", "or"]),
        inner,
    ),
    max_leaves=6,
)


def reference_rows() -> tuple[list[LogRow], list[LogRow]]:
    """The rows the reference test filters: the organization's, and another's."""
    rng = random.Random(20261125)
    return make_rows("org-mine", rng, 80), make_rows("org-theirs", rng, 30)


def check_against_reference(loop: asyncio.AbstractEventLoop, log: Any) -> None:
    """Write the reference rows to ``log`` (a log runner: ``store.log``, or ClickHouse's);
    250 random trees must then select exactly the rows the reference does."""
    mine, theirs = reference_rows()
    loop.run_until_complete(log.write_batch(mine + theirs))

    @settings(
        max_examples=250,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(tree=trees)
    def check(tree: Any) -> None:
        query = RequestQuery(filter=tree, limit=1000, include_bodies=False)
        rows = loop.run_until_complete(log.org("org-mine").read(requests.query_requests, query))
        got = {row["request_id"] for row in rows}
        expected = {row.request_id for row in mine if evaluate(tree, row)}
        assert got == expected, tree

    check()


def test_sql_matches_the_reference(database_url: str) -> None:
    loop = asyncio.new_event_loop()
    store = Store.open(database_url)
    loop.run_until_complete(store.migrate())
    try:
        check_against_reference(loop, store.log)
    finally:
        loop.run_until_complete(store.close())
        loop.close()
