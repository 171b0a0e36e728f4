"""A store that goes down, or ends the connection, while a Helioscope starts: it starts anyway.

Startup's calls to the store (the migration, the default organization's bootstrap) met such an
outage with a long traceback, and the server exited (status 3). Here the startup waits, with
one line, and runs those steps again once the store answers. Each case locks the table a step
needs from a connection of its own, so that the step waits at a known statement: then the
cluster stops, or the backend running it is ended, as a PostgreSQL restart or an administrator
would. An error that is no outage (a failing statement on a store that answers) still fails.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from helioscope import Settings
from helioscope._outage import through_outages
from helioscope.services import Services
from helioscope.store import Db, Store, hash_api_key, keys
from tests.throwaway_postgres import holding, throwaway_postgres, until_waiting


def _settings(url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=url, journal_dir=tmp_path / "journal")


async def _start(services: Services) -> asyncio.Task[None]:
    """``services.running()`` in a task of its own, entered and held until cancelled."""

    async def run() -> None:
        async with services.running():
            await asyncio.Event().wait()

    return asyncio.create_task(run())


async def _until_running(services: Services, task: asyncio.Task[None]) -> None:
    deadline = asyncio.get_running_loop().time() + 60
    while not services.is_running:
        if task.done():
            task.result()  # its startup failed: raise why
        assert asyncio.get_running_loop().time() < deadline, "it never started"
        await asyncio.sleep(0.05)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def _alive(task: asyncio.Task[None]) -> None:
    if task.done():
        task.result()
    assert not task.done()


async def test_a_store_that_stops_while_startup_migrates_is_waited_for(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "helioscope")
    with throwaway_postgres() as cluster:
        store = Store.open(cluster.url)
        await store.migrate()
        await store.close()
        services = Services(_settings(cluster.url, tmp_path))
        async with holding(cluster.url, "alembic_version") as held:
            task = await _start(services)
            await until_waiting(held, lambda: _alive(task))  # migrate reads the revision
            cluster.stop()

        def said() -> list[str]:
            return [r.getMessage() for r in caplog.records]

        deadline = asyncio.get_running_loop().time() + 60
        while not any("waiting for it" in line for line in said()):
            _alive(task)
            assert asyncio.get_running_loop().time() < deadline, said()
            await asyncio.sleep(0.05)
        cluster.start()
        await _until_running(services, task)
        await _stop(task)
    assert services.bootstrap_key is not None
    assert "Traceback" not in caplog.text
    waits = [line for line in said() if "waiting for it" in line]
    assert len(waits) == 1, said()
    assert sum("reachable after" in line for line in said()) == 1, said()


async def test_a_connection_ended_mid_bootstrap_makes_one_organization_and_one_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.WARNING, "helioscope")
    with throwaway_postgres() as cluster:
        store = Store.open(cluster.url)
        await store.migrate()
        services = Services(_settings(cluster.url, tmp_path))
        # The organization is inserted, the key's insert waits: the backend is ended there.
        async with holding(cluster.url, "helicone_api_keys") as held:
            task = await _start(services)
            await held.end_and_release(await until_waiting(held, lambda: _alive(task)))
            await _until_running(services, task)
        await _stop(task)
        orgs = await store.read(keys.list_orgs)
        key_hashes = await store.read(_key_hashes)
        await store.close()
    created = services.bootstrap_key
    assert created is not None and [org.id for org in orgs] == [created.organization_id]
    assert key_hashes == [hash_api_key(created.key)]
    assert capsys.readouterr().out.count(created.key) == 1
    lines = [r.getMessage() for r in caplog.records if "trying again" in r.getMessage()]
    assert len(lines) == 1 and "terminating connection" in lines[0], caplog.text


async def _key_hashes(db: Db) -> list[str]:
    return list(await db.scalars(text("SELECT api_key_hash FROM helicone_api_keys")))


async def test_a_failing_statement_on_a_store_that_answers_is_raised_at_once() -> None:
    runs = 0
    with throwaway_postgres() as cluster:
        store = Store.open(cluster.url)

        async def steps() -> None:  # a bug of ours: no outage to wait for
            nonlocal runs
            runs += 1
            await store.read(_missing_table)

        try:
            with pytest.raises(ProgrammingError):
                await through_outages(store, steps, print)
        finally:
            await store.close()
    assert runs == 1


async def _missing_table(db: Db) -> None:
    await db.scalar(text("SELECT 1 FROM no_such_table"))
