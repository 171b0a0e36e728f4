"""Fixtures: each test gets its own empty database on each engine, a fresh fake provider, and a
Helioscope running in process (``helioscope.client``), with a real loopback socket on demand
(``helioscope.url``).

PostgreSQL runs when ``HELIOSCOPE_TEST_POSTGRES_URL`` is set (``.ci/run`` sets it); otherwise
those cases are skipped and the summary says so. Modules marked ``pytest.mark.clickhouse`` (the
ones that read the log) run a third time with the log in ClickHouse (chdb, in process) and the
rest in SQLite. Modules marked ``pytest.mark.one_engine`` (what they test lies in front of the
store: the gateway's translations, controls and relaying) run on SQLite only. ``--db sqlite``,
``--db postgresql`` or ``--db clickhouse`` picks one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from helioscope import Settings
from helioscope.store import Store
from helioscope.store.clickhouse import ClickHouse
from helioscope.testing import FakeProvider
from tests.databases import PostgresDatabase, copy_sqlite, run_async, sqlite_template
from tests.provider_host import ProviderHost
from tests.running import Running, running

__all__ = ["Running"]

POSTGRES_ENV = "HELIOSCOPE_TEST_POSTGRES_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("all", "sqlite", "postgresql", "clickhouse"),
        default="all",
        help="Run database tests on one engine only.",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine_name" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--db")
        engines = ["sqlite", "postgresql"]
        if metafunc.definition.get_closest_marker("clickhouse") is not None:
            engines.append("clickhouse")
        if metafunc.definition.get_closest_marker("one_engine") is not None:
            # What such a module asserts (a translation, a retry, a header, a relayed stream)
            # is the same whatever the engine, and the store on each engine is the subject of
            # the modules that test it: the whole gateway module again on PostgreSQL only cost
            # time (~20 s of CPU per run).
            engines = ["sqlite"]
        if chosen != "all":
            engines = [e for e in engines if e == chosen]
        # Module scope, so that a module may share one app per engine (read-only sweeps).
        metafunc.parametrize("engine_name", engines, scope="module")


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from tests.scheduling import make_scheduler  # xdist is imported only when it runs

    return make_scheduler(config, log)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not os.environ.get(POSTGRES_ENV):
        terminalreporter.write_line(
            f"NOTE: PostgreSQL tests were SKIPPED: set {POSTGRES_ENV}="
            "postgresql://user@host:5432/db to run them.",
            yellow=True,
            bold=True,
        )


@pytest.fixture(scope="session")
def _postgres() -> Iterator[PostgresDatabase]:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests skipped: {POSTGRES_ENV} is not set")
    database = PostgresDatabase(base)
    database.create()
    yield database
    database.drop()


@pytest.fixture(scope="session")
def postgres_url(_postgres: PostgresDatabase) -> str:
    """A migrated PostgreSQL database of this test session (and xdist worker), dropped after."""
    return _postgres.url


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def chdb_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The session's chdb data directory, with one client kept open so the engine stays up.

    chdb runs one engine (one data directory) per process, so every ClickHouse test of the
    session (and xdist worker) shares it.
    """
    path = tmp_path_factory.mktemp("chdb")
    # In a thread of its own: the first to ask may be a fixture running in an event loop.
    keeper = run_async(lambda: ClickHouse.connect(f"chdb://{path}?database=keeper"))
    yield path
    run_async(keeper.close)


@pytest.fixture(scope="session")
def _clickhouse_log_url(chdb_path: Path) -> str:
    """One ClickHouse log database for the session's API tests, migrated on first use.

    Tests keep apart by organization (every test's organizations are new UUIDs, and every log
    query names one), as they would on a shared server: no database to create per test.
    """
    return f"chdb://{chdb_path}?database=log_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def clickhouse_url(engine_name: str, request: pytest.FixtureRequest) -> str | None:
    """Where the test's log lives when it is not in its database: ClickHouse, or None."""
    if engine_name != "clickhouse":
        return None
    url: str = request.getfixturevalue("_clickhouse_log_url")
    return url


@pytest.fixture
async def database_url(engine_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty, migrated database for one test: a copy of the SQLite template (also the
    metadata store of a ClickHouse test), or the session's PostgreSQL database emptied."""
    if engine_name in ("sqlite", "clickhouse"):
        return copy_sqlite(request.getfixturevalue("_sqlite_template"), tmp_path)
    postgres: PostgresDatabase = request.getfixturevalue("_postgres")
    await postgres.empty()
    return postgres.url


@pytest.fixture
async def store(database_url: str, clickhouse_url: str | None) -> AsyncIterator[Store]:
    """A migrated store on the test's database (and ClickHouse log, on that engine)."""
    s = Store.open(database_url, clickhouse_url)
    await s.migrate()
    yield s
    await s.close()


@pytest.fixture(scope="session")
def _provider_host() -> Iterator[ProviderHost]:
    host = ProviderHost()
    with host.running():
        yield host


@pytest.fixture
def fake(_provider_host: ProviderHost) -> Iterator[FakeProvider]:
    """A fresh fake provider for this test, on the session's loopback socket (``fake.url``)."""
    provider = _provider_host.serving(FakeProvider())
    yield provider
    _provider_host.provider = None


@pytest.fixture
def settings(
    database_url: str, clickhouse_url: str | None, fake: FakeProvider, tmp_path: Path
) -> Settings:
    """Settings pointing at the test database and the fake provider, strict about errors."""
    return settings_for(database_url, fake, tmp_path, clickhouse_url)


def settings_for(
    database_url: str, fake: FakeProvider, directory: Path, clickhouse_url: str | None = None
) -> Settings:
    """The tests' settings: strict about internal errors, quick to retry, no bootstrap key."""
    return Settings(
        database_url=database_url,
        clickhouse_url=clickhouse_url,
        openai_base_url=fake.url,
        anthropic_base_url=fake.url,
        raise_internal_errors=True,
        bootstrap_default_org=False,
        journal_dir=directory / "journal",
        log_retry_seconds=0.05,
        # Tests wait for the store after nearly every call: batches gather for less long than
        # the default (fewer transactions under load), so that each wait is short.
        log_flush_interval_seconds=0.05,
        shutdown_drain_seconds=5,
    )


@pytest.fixture
async def helioscope(settings: Settings) -> AsyncIterator[Running]:
    """Helioscope in process over the test database, proxying to the fake provider; organization
    ``acme`` and its key. ``helioscope.url`` adds a real loopback server when a test needs one."""
    async with running(settings) as hs:
        yield hs


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_helioscope(
    engine_name: str,
    tmp_path_factory: pytest.TempPathFactory,
    _provider_host: ProviderHost,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Running]:
    """One Helioscope for a whole module on each engine, for sweeps that only read or refuse.

    Tests that use it run in the module's event loop (``pytest.mark.asyncio(loop_scope=
    "module")``) and each makes an organization of its own (``add_org``), so none sees
    another's data. Anything that writes shared state keeps the per-test ``helioscope``.
    """
    directory = tmp_path_factory.mktemp("shared")
    clickhouse_url = None
    if engine_name in ("sqlite", "clickhouse"):
        url = copy_sqlite(request.getfixturevalue("_sqlite_template"), directory)
    else:
        postgres: PostgresDatabase = request.getfixturevalue("_postgres")
        await postgres.empty()
        url = postgres.url
    if engine_name == "clickhouse":
        clickhouse_url = request.getfixturevalue("_clickhouse_log_url")
    fake = _provider_host.serving(FakeProvider())
    async with running(settings_for(url, fake, directory, clickhouse_url)) as hs:
        yield hs


@pytest_asyncio.fixture(loop_scope="module")
async def own_org(shared_helioscope: Running) -> AsyncIterator[Running]:
    """The module's shared Helioscope (``shared_helioscope``) as an organization of this test's
    own, with its key: for tests that write and read only their organization's data.

    Saves each test an app of its own (~30 ms of CPU) and, with the log in ClickHouse, the
    first batch's heal of the newest rows (~170 ms).
    """
    org_id, key = await shared_helioscope.add_org(f"own-{uuid.uuid4().hex}")
    hs = Running(None, shared_helioscope.services, org_id, key, app=shared_helioscope.app)
    yield hs
    await hs.aclose()
