"""The store's read functions, unchanged, on ClickHouse: the same log and edits on SQLite and
on chdb must give the same answers, call by call.

The calls that need a ClickHouse form of their own are listed in ``NEEDS_CLICKHOUSE_FORM`` with
the reason; the test checks that they do fail, so the list stays true as the code changes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from helioscope.store import (
    Buckets,
    EvalQuery,
    LogPageQuery,
    OrgDb,
    RequestQuery,
    SessionPage,
    SessionQuery,
    Store,
    TimeWindow,
    UserQuery,
)
from helioscope.store.clickhouse import ClickHouse, ClickHouseLog
from helioscope.store.clickhouse import _reads as ch_reads
from helioscope.store.log import (
    metrics,
    pages,
    prompt_calls,
    properties,
    public_stats,
    requests,
    scores,
    session_list,
    sessions,
    users,
)
from tests.store.clickhouse.parity_data import ORG, OTHER, START, edits, log_rows

Call = Callable[[OrgDb], Awaitable[Any]]
END = START + dt.timedelta(days=3)
WINDOW = TimeWindow(START, END)
# A window cut mid-hour at both ends.
CUT = TimeWindow(START + dt.timedelta(minutes=50, seconds=7), END - dt.timedelta(minutes=20))
DAY, HOUR = Buckets("day", 300), Buckets("hour", -60)
PROD = {"request_response_rmt": {"properties": {"env": {"equals": "prod"}}}}
PROD_UPPER = {"request_response_rmt": {"properties": {"Env": {"equals": "prod"}}}}
PROD_AND_MODEL = {
    "left": PROD,
    "operator": "and",
    "right": {"request_response_rmt": {"model": {"equals": "gpt-4o"}}},
}
COSTLY = {"sessions_request_response_rmt": {"session_total_cost": {"gt": 0.0001}}}
BUSY_USERS = {"users_view": {"user_total_requests": {"gte": 10}}}
BODY = {"request_response_rmt": {"response_body": {"contains": "answer 3"}}}
IDS = [f"{ORG[-5:]}-{i:05d}" for i in (1, 5, 6, 50)]
# The user metrics page's rollup form: sorts, HAVING on every kind of value, windows cut
# mid-hour and within one hour, a page past the end (its count), no user at all, a filter on rows
# (the log).
USER_PAGES = {
    "default sort": UserQuery(),
    "by cost, paged": UserQuery(sort={"cost": "desc"}, limit=2, offset=1),
    "by first active, having": UserQuery(
        filter={
            "left": BUSY_USERS,
            "operator": "and",
            "right": {"users_view": {"rate_limited_count": {"gte": 1}}},
        },
        sort={"first_active": "desc"},
    ),
    "having last active": UserQuery(
        filter={"users_view": {"last_active": {"lt": (START + dt.timedelta(days=2)).isoformat()}}}
    ),
    "window mid-hour": UserQuery(start=CUT.start, end=CUT.end, sort={"active_for": "asc"}),
    "window cut mid-hour through the rows": UserQuery(
        start=START + dt.timedelta(hours=7, minutes=10),
        end=START + dt.timedelta(hours=40, minutes=25),
    ),
    "window within an hour": UserQuery(
        start=START + dt.timedelta(minutes=5), end=START + dt.timedelta(minutes=50)
    ),
    "past the last page": UserQuery(offset=50),
    "having no user": UserQuery(filter={"users_view": {"user_total_requests": {"gte": 10**9}}}),
    "filter on rows: the log": UserQuery(filter=PROD, sort={"rate_limited_count": "desc"}),
}


def _sessions_query(**kw: Any) -> SessionQuery:
    return SessionQuery(start=START, end=END, use_summary=False, **kw)


def _q(**kw: Any) -> RequestQuery:
    return RequestQuery(limit=50, **kw)


async def _score_values(db: OrgDb, key: str) -> list[float]:
    # by_key also returns each score's write time, which differs by engine by design.
    return [value for value, _ in await scores.by_key(db, key)]


CALLS: dict[str, Call] = {
    "query_requests": lambda db: requests.query_requests(db, _q()),
    "query_requests (filter, sort)": lambda db: requests.query_requests(
        db, _q(filter=PROD, sort={"latency": "asc"})
    ),
    "query_requests (property sort)": lambda db: requests.query_requests(
        db, _q(sort={"properties": {"feature": "desc"}}, include_bodies=False)
    ),
    "query_requests (body filter, body sort)": lambda db: requests.query_requests(
        db, _q(filter=BODY, sort={"request_prompt": "asc"})
    ),
    "query_requests (cached, scored)": lambda db: requests.query_requests(
        db, _q(is_cached=False, is_scored=True, part_of_experiment=False)
    ),
    "count_requests": lambda db: requests.count_requests(db, PROD, None),
    "news": lambda db: requests.news(db, PROD, START + dt.timedelta(days=2)),
    "requests_by_ids": lambda db: requests.requests_by_ids(db, IDS),
    "get_request": lambda db: requests.get_request(db, IDS[1]),
    "existing_ids": lambda db: requests.existing_ids(db, [*IDS, "nope"]),
    "bodies": lambda db: requests.bodies(db, IDS),
    "log_page": lambda db: pages.log_page(db, LogPageQuery(filter=PROD, limit=40)),
    "query_sessions (log)": lambda db: sessions.query_sessions(db, _sessions_query()),
    "query_sessions (log, having)": lambda db: sessions.query_sessions(
        db, _sessions_query(filter=COSTLY, search="session-0")
    ),
    "query_sessions (summary)": lambda db: sessions.query_sessions(
        db, SessionQuery(start=START, end=END)
    ),
    "session_page": lambda db: session_list.session_page(db, SessionPage(search="session-0")),
    "session_users": lambda db: sessions.session_users(db, ["session-01", "session-02"]),
    "session_names": lambda db: sessions.session_names(db, "flow", "all", None, None),
    "session_rows": lambda db: sessions.session_rows(db, SessionQuery()),
    "has_session": lambda db: sessions.has_session(db),
    "session_trace": lambda db: sessions.session_trace(db, "session-03"),
    "session_timeline": lambda db: sessions.session_timeline(db, "session-03"),
    "get_session_tag": lambda db: sessions.get_session_tag(db, "session-01"),
    "totals": lambda db: metrics.totals(db, "all", WINDOW),
    "totals (filter)": lambda db: metrics.totals(db, PROD, None),
    "over_time (day)": lambda db: metrics.over_time(db, "all", WINDOW, DAY, list(metrics.MEASURES)),
    "over_time (hour, by status)": lambda db: metrics.over_time(
        db, PROD, WINDOW, HOUR, ["count", "cost"], "status"
    ),
    "over_time (week)": lambda db: metrics.over_time(
        db, "all", WINDOW, Buckets("week", 0), ["count"], fill=False
    ),
    "quantiles (latency, hour)": lambda db: metrics.quantiles(db, PROD, WINDOW, HOUR, "latency"),
    "quantiles (cost, day)": lambda db: metrics.quantiles(db, "all", WINDOW, DAY, "cost"),
    "breakdown": lambda db: metrics.breakdown(db, "all", WINDOW, "model", 0, 10),
    "scored_rows": lambda db: metrics.scored_rows(db, "all", WINDOW, DAY),
    "window_stats": lambda db: metrics.window_stats(db, WINDOW.start, WINDOW.end),
    "user_metrics": lambda db: users.user_metrics(db, UserQuery(sort={"cost": "desc"}, limit=3)),
    "user_metrics (having)": lambda db: users.user_metrics(db, UserQuery(filter=BUSY_USERS)),
    "has_users": lambda db: users.has_users(db),
    "user_totals": lambda db: users.user_totals(db, None, WINDOW),
    "per_user_values": lambda db: users.per_user_values(db, "all"),
    "property_keys": lambda db: properties.property_keys(db),
    "property_keys (hidden too)": lambda db: properties.property_keys(db, True),
    "hidden_keys": lambda db: properties.hidden_keys(db),
    "property search_values": lambda db: properties.search_values(db, "feature", "F-"),
    "property top_values": lambda db: properties.top_values(db, "env", WINDOW, "cost"),
    "property over_time": lambda db: properties.over_time(db, "env", "all", WINDOW, DAY),
    "prompt call_inputs": lambda db: prompt_calls.call_inputs(
        db, "greeter", "v1", f"{ORG[-5:]}-00009"
    ),
    "prompt last_used": lambda db: prompt_calls.last_used(db, "greeter"),
    "score names": lambda db: scores.names(db),
    "score evals": lambda db: scores.evals(db, EvalQuery("all", START, END)),
    "score aggregate": lambda db: scores.aggregate(db, IDS),
    "score by_key": lambda db: _score_values(db, "accuracy"),
    "customer_ids": lambda db: public_stats.customer_ids(db),
    "provider_hours": lambda db: public_stats.provider_hours(db, START, END, None),
    "provider_hours (openai)": lambda db: public_stats.provider_hours(db, START, END, "openai"),
    "model_days": lambda db: public_stats.model_days(db, START, END, None),
    "ttft_rows": lambda db: public_stats.ttft_rows(db, START, END, None, ["GPT-4o"]),
    "call_rows": lambda db: public_stats.call_rows(db, START, END, "OPENAI", ["GPT-4o-mini"]),
}

# Calls that cannot run on ClickHouse as they are (none, today), with the reason; the test
# checks that exactly these fail, so the list stays true as the code changes.
NEEDS_CLICKHOUSE_FORM: dict[str, str] = {}


@dataclass(frozen=True)
class _Call:
    """A store function and its arguments after ``db``: one call, run by either form."""

    fn: Callable[..., Awaitable[Any]]
    args: tuple[Any, ...]

    def __init__(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        object.__setattr__(self, "fn", fn)
        object.__setattr__(self, "args", args)

    def __call__(self, db: OrgDb) -> Awaitable[Any]:
        return self.fn(db, *self.args)

    def clickhouse(self, db: OrgDb) -> Awaitable[Any]:
        """The same call, as its ClickHouse form (what ``ClickHouseOrgRunner.read`` runs)."""
        return ch_reads.READS[self.fn](db, *self.args)


# (the store's call, a ClickHouse form of it): the answers must be equal.
FORMS: dict[str, tuple[Call, Call]] = {
    "property_keys": (
        lambda db: properties.property_keys(db),
        lambda db: ch_reads.property_keys(db),
    ),
    "property_keys (hidden too)": (
        lambda db: properties.property_keys(db, True),
        lambda db: ch_reads.property_keys(db, True),
    ),
    **{
        f"property {name}": (call, call.clickhouse)
        for name, call in {
            "search_values": _Call(properties.search_values, "feature", "F-"),
            "search_values (edited key)": _Call(properties.search_values, "env", "a"),
            "search_values (key in two cases)": _Call(properties.search_values, "Tier", "t"),
            "search_values (session column)": _Call(
                properties.search_values, "helicone-session-id", "session"
            ),
            "top_values (cost)": _Call(properties.top_values, "env", WINDOW, "cost"),
            "top_values (requests)": _Call(properties.top_values, "feature", WINDOW, "requests"),
            "top_values (key in two cases)": _Call(properties.top_values, "Tier", WINDOW, "cost"),
            "top_values (mid-hour window: property_hour and edges)": _Call(
                properties.top_values, "feature", CUT, "cost"
            ),
            "top_values (window on whole hours)": _Call(
                properties.top_values,
                "env",
                TimeWindow(START, START + dt.timedelta(hours=5)),
                "cost",
            ),
            "over_time": _Call(properties.over_time, "env", "all", WINDOW, DAY),
            "over_time (mid-hour window, hours)": _Call(
                properties.over_time, "feature", "all", CUT, HOUR
            ),
            "over_time (filtered)": _Call(properties.over_time, "feature", PROD, WINDOW, HOUR),
            "over_time (key in two cases)": _Call(properties.over_time, "Tier", "all", WINDOW, DAY),
            "over_time (session column)": _Call(
                properties.over_time, "Helicone-Session-Name", "all", WINDOW, DAY
            ),
        }.items()
    },
    # The session page filtered by one property: session_property, straddlers from the log.
    **{
        f"sessions {name}": (call, call.clickhouse)
        for name, call in {
            "query_sessions (summary, mid-hour window)": _Call(
                sessions.query_sessions,
                SessionQuery(start=CUT.start, end=START + dt.timedelta(days=2)),
            ),
            "query_sessions (summary, totals, searched, paged)": _Call(
                sessions.query_sessions,
                SessionQuery(filter=COSTLY, search="session-0", offset=1, limit=4, start=START),
            ),
            "query_sessions (summary, no window)": _Call(sessions.query_sessions, SessionQuery()),
            "query_sessions (one property)": _Call(
                sessions.query_sessions, SessionQuery(filter=PROD, start=START, end=END)
            ),
            "query_sessions (one property and totals, mid-hour window)": _Call(
                sessions.query_sessions,
                SessionQuery(
                    filter={"left": PROD, "operator": "and", "right": COSTLY},
                    start=CUT.start,
                    end=START + dt.timedelta(days=2),
                ),
            ),
            "query_sessions (totals and one property, searched, paged)": _Call(
                sessions.query_sessions,
                SessionQuery(
                    filter={"left": COSTLY, "operator": "and", "right": PROD},
                    search="session-0",
                    offset=2,
                    limit=3,
                ),
            ),
            "query_sessions (another key, no window)": _Call(
                sessions.query_sessions,
                SessionQuery(
                    filter={"request_response_rmt": {"properties": {"feature": {"equals": "f-4"}}}}
                ),
            ),
            "query_sessions (two conditions: the log)": _Call(
                sessions.query_sessions, SessionQuery(filter=PROD_AND_MODEL, start=CUT.start)
            ),
        }.items()
    },
    # The per-hour rollup: windows cut mid-hour read their edges from the log.
    **{
        f"metrics {name}": (call, call.clickhouse)
        for name, call in {
            "totals": _Call(metrics.totals, "all", WINDOW),
            "totals (mid-hour window)": _Call(metrics.totals, "all", CUT),
            "totals (one property: property_hour and edges)": _Call(metrics.totals, PROD, CUT),
            "totals (a property in another case: the log)": _Call(metrics.totals, PROD_UPPER, CUT),
            "totals (two conditions: the log)": _Call(metrics.totals, PROD_AND_MODEL, CUT),
            "over_time (one property, every measure)": _Call(
                metrics.over_time, PROD, CUT, DAY, list(metrics.MEASURES)
            ),
            "over_time (one property, hours)": _Call(
                metrics.over_time, PROD, CUT, HOUR, ["count", "users", "errors"]
            ),
            "over_time (one property, by status: the log)": _Call(
                metrics.over_time, PROD, CUT, HOUR, ["count"], "status"
            ),
            "totals (no window: the log)": _Call(metrics.totals, "all", None),
            "over_time (day, every measure)": _Call(
                metrics.over_time, "all", CUT, DAY, list(metrics.MEASURES)
            ),
            "over_time (hour, by status)": _Call(
                metrics.over_time, "all", CUT, HOUR, ["count", "cost", "users"], "status"
            ),
            "over_time (week, unfilled)": _Call(
                metrics.over_time, "all", CUT, Buckets("week", 120), ["count"], None, False
            ),
            "over_time (half-hour offset: the log)": _Call(
                metrics.over_time, "all", CUT, Buckets("day", 30), ["count", "latency"]
            ),
            "quantiles (latency, mid-hour window: latency_hour and edges)": _Call(
                metrics.quantiles, "all", CUT, HOUR, "latency"
            ),
            "quantiles (latency, day)": _Call(metrics.quantiles, "all", WINDOW, DAY, "latency"),
            "quantiles (cost: the log)": _Call(metrics.quantiles, "all", CUT, DAY, "cost"),
            "breakdown (model)": _Call(metrics.breakdown, "all", CUT, "model", 0, 10),
            "breakdown (status, paged)": _Call(metrics.breakdown, "all", CUT, "status", 1, 2),
            "breakdown (country: the log)": _Call(metrics.breakdown, "all", CUT, "country", 0, 5),
            "per_user_values": _Call(users.per_user_values, "all"),
            **{
                f"user_metrics ({name})": _Call(users.user_metrics, query)
                for name, query in USER_PAGES.items()
            },
            "per_user_values (having: the log)": _Call(users.per_user_values, BUSY_USERS),
        }.items()
    },
}
# Forms whose SQL sets no order (or only a partial one): compared as sets of rows.
FORMS_UNORDERED = {
    "metrics over_time (hour, by status)",
    "metrics over_time (one property, by status: the log)",
    "metrics per_user_values",
    "metrics per_user_values (having: the log)",
}

# Calls whose SQL sets no order (or only a partial one): compared as sets of rows.
UNORDERED = {"over_time (hour, by status)", "scored_rows", "per_user_values"}

# Values that differ by design: ids and write times are assigned by each engine.
IGNORED = {"feedback_id", "feedback_created_at", "updated_at"}


def _normal(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if k not in IGNORED}
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    if isinstance(value, float) and math.isfinite(value):
        return round(value, 6)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value


def _difference(name: str, expected: Any, got: Any) -> str:
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        for index, (want, have) in enumerate(zip(expected, got, strict=True)):
            if want != have:
                return (
                    f"{name} [{index}]:\n  sqlite     {want!r:.1500}\n  clickhouse {have!r:.1500}"
                )
    return f"{name}:\n  sqlite     {expected!r:.600}\n  clickhouse {got!r:.600}"


_SQL_EDITS: dict[str, Any] = {
    "set_property": requests.set_property,
    "add_scores": requests.add_scores,
    "set_feedback": requests.set_feedback,
    "set_session_tag": sessions.set_session_tag,
    "set_session_feedback": sessions.set_session_feedback,
    "set_hidden": properties.set_hidden,
}


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'parity.db'}")
    await store.migrate()
    await store.log.write_batch(log_rows() + log_rows(OTHER, 40))
    for method, (org, *args) in edits():
        await store.log.org(org).write(_SQL_EDITS[method], *args)
    yield store
    await store.close()


@pytest.fixture
async def ch_parity(clickhouse: ClickHouse) -> ClickHouseLog:
    log = ClickHouseLog(clickhouse)
    await log.write_batch(log_rows() + log_rows(OTHER, 40))
    # The call sites' form: the store's function, run as its ClickHouse form (_edits.EDITS).
    for method, (org, *args) in edits():
        await log.org(org).write(_SQL_EDITS[method], *args)
    return log


async def test_every_read_answers_as_on_sqlite(sqlite: Store, ch_parity: ClickHouseLog) -> None:
    differ, failed = [], {}
    for name, call in CALLS.items():
        expected = _normal(await sqlite.log.org(ORG).read(call))
        try:
            got = _normal(await ch_parity.org(ORG).read(call))
        except Exception as exc:  # the list below says which calls may fail, and why
            failed[name] = f"{type(exc).__name__}: {str(exc)[:200]}"
            continue
        if name in UNORDERED:
            got, expected = sorted(got, key=repr), sorted(expected, key=repr)
        if got != expected:
            differ.append(_difference(name, expected, got))
    assert not differ, "\n".join(differ)
    assert failed.keys() == NEEDS_CLICKHOUSE_FORM.keys(), failed
    unchanged = len(CALLS) - len(failed)
    print(f"{unchanged}/{len(CALLS)} read calls run unchanged on ClickHouse")


async def test_clickhouse_forms_answer_as_on_sqlite(
    sqlite: Store, ch_parity: ClickHouseLog
) -> None:
    for name, (sql_call, ch_call) in FORMS.items():
        expected = _normal(await sqlite.log.org(ORG).read(sql_call))
        got = _normal(await ch_parity.org(ORG).read(ch_call))
        if name in FORMS_UNORDERED:
            got, expected = sorted(got, key=repr), sorted(expected, key=repr)
        assert expected, name  # a form compared over nothing would prove nothing
        assert got == expected, _difference(name, expected, got)
