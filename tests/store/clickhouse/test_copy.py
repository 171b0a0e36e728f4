"""``migrate --to-clickhouse``'s copy: a SQLite log into ClickHouse, stopped half way and
resumed, verified by counts and by reading the same answers back on both engines."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from helioscope.store import RequestQuery, Store, TimeWindow, keys
from helioscope.store.clickhouse import ClickHouse, ClickHouseLog, copy_log
from helioscope.store.log import properties, requests, sessions
from tests.cli.runner import helioscope as helioscope_cli
from tests.store.clickhouse.parity_data import START, log_rows
from tests.store.clickhouse.test_query_parity import _normal
from tests.test_cli import run_cli

PAGE = 25


class Stop(Exception):
    """The copy was interrupted (as by Ctrl-C or a lost connection)."""


@pytest.fixture
async def source(tmp_path: Path) -> AsyncIterator[tuple[Store, list[str]]]:
    store = Store.open(f"sqlite:///{tmp_path / 'source.db'}")
    await store.migrate()
    orgs = [(await store.write(keys.get_or_create_org, name)).id for name in ("one", "two")]
    await store.log.write_batch(log_rows(orgs[0], 130) + log_rows(orgs[1], 40, seed=9))
    one = store.log.org(orgs[0])
    await one.write(requests.set_feedback, f"{orgs[0][-5:]}-00006", True)
    await one.write(requests.add_scores, f"{orgs[0][-5:]}-00005", {"accuracy": 0.5})
    await one.write(sessions.set_session_tag, "session-01", "important")
    await one.write(properties.set_hidden, "feature", True)
    yield store, orgs
    await store.close()


async def test_a_stopped_copy_resumes_and_ends_verified(
    source: tuple[Store, list[str]], clickhouse: ClickHouse
) -> None:
    store, orgs = source
    pages: list[int] = []

    def stop_after_three_pages(rows: int) -> None:
        pages.append(rows)
        if len(pages) == 3:
            raise Stop

    with pytest.raises(Stop):
        await copy_log(
            store, store.location, clickhouse, page_size=PAGE, advanced=stop_after_three_pages
        )
    seen: list[tuple[int, int]] = []
    report = await copy_log(
        store,
        store.location,
        clickhouse,
        page_size=PAGE,
        started=lambda total, done: seen.append((total, done)),
    )
    assert seen == [(170, 3 * PAGE)]  # the second run knows what the first copied
    assert report.resumed == 3 * PAGE
    assert report.copied == 170 - 3 * PAGE  # and copies only the rest
    assert report.verified, report.counts
    assert {c.table: c.source for c in report.counts} == {
        "request_response": 170,
        "feedback": 1,
        "session_tag": 1,
        "score_value": 2,  # the score, and the rating's (helicone-score-feedback)
        "hidden_property_key": 1,
    }

    log = ClickHouseLog(clickhouse)
    for org in orgs:
        query = RequestQuery(limit=1000, include_bodies=True)
        want = await store.log.org(org).read(requests.query_requests, query)
        got = await log.org(org).read(requests.query_requests, query)
        assert _normal(got) == _normal(want)
        tag = sessions.get_session_tag
        assert await log.org(org).read(tag, "session-01") == await store.log.org(org).read(
            tag, "session-01"
        )
    assert await log.org(orgs[0]).read(properties.property_keys) == await store.log.org(
        orgs[0]
    ).read(properties.property_keys)
    # The copy fills request_property too: the property reads (its forms) answer as SQLite.
    window = TimeWindow(START, START + dt.timedelta(days=3))
    one, copied = store.log.org(orgs[0]), log.org(orgs[0])
    top = await one.read(properties.top_values, "env", window, "cost")
    assert top[0] and await copied.read(properties.top_values, "env", window, "cost") == top
    found = await one.read(properties.search_values, "feature", "f")
    assert found and await copied.read(properties.search_values, "feature", "f") == found

    # Run again once done: nothing to copy, still verified.
    again = await copy_log(store, store.location, clickhouse, page_size=PAGE)
    assert (again.copied, again.verified) == (0, True)


async def test_the_command_copies_with_a_progress_bar_and_counts(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'helioscope.db'}"
    store = Store.open(database_url)
    await store.migrate()
    org = (await store.write(keys.get_or_create_org, "acme")).id
    await store.log.write_batch(log_rows(org, 60))
    await store.close()
    # Its own process, so its own chdb engine (one per process) in its own directory.
    env = {
        "HELIOSCOPE_DATABASE_URL": database_url,
        "HELIOSCOPE_CLICKHOUSE_URL": f"chdb://{tmp_path / 'ch'}?database=helioscope",
    }
    code, out, err = await run_cli("migrate", "--to-clickhouse", "--page-size", "7", env=env)
    assert code == 0, err
    assert "log copied to ClickHouse" in out
    assert "copy log" in err  # the bar's label
    assert "request_response: 60 here, 60 in ClickHouse: ok" in err
    code, _, err = await run_cli("migrate", "--to-clickhouse", env=env)
    assert code == 0, err
    assert "resuming: 60 rows were copied by an earlier run" in err


def test_the_command_needs_a_clickhouse_url(tmp_path: Path) -> None:
    # Refused before any store is opened: in this process (tests/cli/runner.py), not in a
    # process of its own (~2 s of CPU to import the app).
    env: dict[str, str | None] = {
        "HELIOSCOPE_DATABASE_URL": f"sqlite:///{tmp_path / 'helioscope.db'}",
        "HELIOSCOPE_CLICKHOUSE_URL": None,
    }
    ran = helioscope_cli("migrate", "--to-clickhouse", env=env)
    assert ran.code == 2
    assert "HELIOSCOPE_CLICKHOUSE_URL" in ran.stderr
