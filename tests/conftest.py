"""Fixtures: each test gets its own database on each engine, a fake provider, and a running
Helioscope on a real loopback port.

PostgreSQL runs when ``HELIOSCOPE_TEST_POSTGRES_URL`` is set (``.ci/run`` sets it); otherwise
those cases are skipped and the summary says so. ``--db sqlite`` or ``--db postgresql`` picks one.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from helioscope import Settings, create_app
from helioscope.app import SERVER_OPTIONS
from helioscope.services import Services
from helioscope.store import Store, keys
from helioscope.store.tables import metadata
from helioscope.testing import FakeProvider, serve

POSTGRES_ENV = "HELIOSCOPE_TEST_POSTGRES_URL"
# Every table, children first, so one TRUNCATE empties the database between tests.
TABLES = tuple(table.name for table in reversed(metadata.sorted_tables))


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
        metafunc.parametrize("engine_name", engines)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not os.environ.get(POSTGRES_ENV):
        terminalreporter.write_line(
            f"NOTE: PostgreSQL tests were SKIPPED: set {POSTGRES_ENV}="
            "postgresql://user@host:5432/db to run them.",
            yellow=True,
            bold=True,
        )


def _run(coro_fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run async setup from sync code, even when an event loop is already running."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(coro_fn())).result()


def _asyncpg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(False)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session (dropped at the end)."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests skipped: {POSTGRES_ENV} is not set")
    name = f"helioscope_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = _asyncpg_url(base)

    def admin_sql(sql: str) -> Callable[[], Coroutine[Any, Any, None]]:
        async def run() -> None:
            engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
            async with engine.connect() as conn:
                await conn.execute(text(sql))
            await engine.dispose()

        return run

    _run(admin_sql(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(False)

    async def migrate() -> None:
        store = Store.open(url)
        await store.migrate()
        await store.close()

    _run(migrate)
    yield url
    _run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def database_url(engine_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty database for one test: a new SQLite file, or the session's PostgreSQL truncated."""
    if engine_name == "sqlite":
        return f"sqlite:///{tmp_path / 'helioscope.db'}"
    url: str = request.getfixturevalue("postgres_url")
    engine = create_async_engine(_asyncpg_url(url))
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    await engine.dispose()
    return url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A migrated store on the test's database."""
    s = Store.open(database_url)
    await s.migrate()
    yield s
    await s.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeProvider]:
    """The fake provider, serving on loopback (``fake.url``)."""
    provider = FakeProvider()
    async with provider.run():
        yield provider


@pytest.fixture
def settings(database_url: str, fake: FakeProvider, tmp_path: Path) -> Settings:
    """Settings pointing at the test database and the fake provider, strict about errors."""
    return Settings(
        database_url=database_url,
        openai_base_url=fake.url,
        anthropic_base_url=fake.url,
        raise_internal_errors=True,
        bootstrap_default_org=False,
        log_spool_dir=tmp_path / "spool",
        log_retry_seconds=0.05,
        shutdown_drain_seconds=5,
    )


@dataclass
class Running:
    """A Helioscope serving on loopback, with one organization and its API key."""

    url: str
    services: Services
    org_id: str
    key: str

    async def flush(self) -> None:
        """Wait until every call so far is in the store."""
        await self.services.writer.flush()

    async def add_org(self, name: str) -> tuple[str, str]:
        """Create another organization; return its id and a key."""
        org = await self.services.store.write(keys.get_or_create_org, name)
        new = await self.services.store.org(org.id).write(keys.create_api_key)
        return org.id, new.key


@pytest.fixture
async def helioscope(settings: Settings) -> AsyncIterator[Running]:
    """Helioscope on a real port, over the test database, proxying to the fake provider."""
    app = create_app(settings)
    services: Services = app.state.services
    async with serve(app, **SERVER_OPTIONS) as url:
        org = await services.store.write(keys.get_or_create_org, "acme")
        key = await services.store.org(org.id).write(keys.create_api_key)
        yield Running(url=url, services=services, org_id=org.id, key=key.key)
