"""Fixtures: each test gets its own empty database on each engine, a fresh fake provider, and a
Helioscope running in process (``helioscope.client``), with a real loopback socket on demand
(``helioscope.url``).

PostgreSQL runs when ``HELIOSCOPE_TEST_POSTGRES_URL`` is set (``.ci/run`` sets it); otherwise
those cases are skipped and the summary says so. ``--db sqlite`` or ``--db postgresql`` picks one.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from helioscope import Settings
from helioscope.store import Store
from helioscope.testing import FakeProvider
from tests.databases import PostgresDatabase, copy_sqlite, sqlite_template
from tests.provider_host import ProviderHost
from tests.running import Running, running

__all__ = ["Running"]

POSTGRES_ENV = "HELIOSCOPE_TEST_POSTGRES_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("all", "sqlite", "postgresql"),
        default="all",
        help="Run database tests on one engine only.",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine_name" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--db")
        engines = ["sqlite", "postgresql"] if chosen == "all" else [chosen]
        # Module scope, so that a module may share one app per engine (read-only sweeps).
        metafunc.parametrize("engine_name", engines, scope="module")


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


@pytest.fixture
async def database_url(engine_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty, migrated database for one test: a copy of the SQLite template, or the
    session's PostgreSQL database emptied."""
    if engine_name == "sqlite":
        return copy_sqlite(request.getfixturevalue("_sqlite_template"), tmp_path)
    postgres: PostgresDatabase = request.getfixturevalue("_postgres")
    await postgres.empty()
    return postgres.url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A migrated store on the test's database."""
    s = Store.open(database_url)
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
def settings(database_url: str, fake: FakeProvider, tmp_path: Path) -> Settings:
    """Settings pointing at the test database and the fake provider, strict about errors."""
    return settings_for(database_url, fake, tmp_path)


def settings_for(database_url: str, fake: FakeProvider, directory: Path) -> Settings:
    """The tests' settings: strict about internal errors, quick to retry, no bootstrap key."""
    return Settings(
        database_url=database_url,
        openai_base_url=fake.url,
        anthropic_base_url=fake.url,
        raise_internal_errors=True,
        bootstrap_default_org=False,
        journal_dir=directory / "journal",
        log_retry_seconds=0.05,
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
    if engine_name == "sqlite":
        url = copy_sqlite(request.getfixturevalue("_sqlite_template"), directory)
    else:
        postgres: PostgresDatabase = request.getfixturevalue("_postgres")
        await postgres.empty()
        url = postgres.url
    fake = _provider_host.serving(FakeProvider())
    async with running(settings_for(url, fake, directory)) as hs:
        yield hs
