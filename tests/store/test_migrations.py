"""Migrations go up and down one step at a time on each engine, and head matches the tables."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from helioscope.store import Store
from helioscope.store._migrate import alembic_config, current_revision, downgrade, upgrade
from helioscope.store.tables import metadata


def revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def test_history_is_linear() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    for rev in script.walk_revisions():
        assert not rev.is_merge_point


async def test_up_and_down_one_step_at_a_time(database_url: str) -> None:
    store = Store.open(database_url)
    try:
        await downgrade(store.engine, "base")
        assert await current_revision(store.engine) is None
        for rev in revisions():
            await upgrade(store.engine, rev)
            assert await current_revision(store.engine) == rev
        for previous in [*reversed(revisions()[:-1]), "base"]:
            await downgrade(store.engine, previous)
            assert await current_revision(store.engine) == (
                None if previous == "base" else previous
            )
        async with store.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        assert set(tables) <= {"alembic_version"}
    finally:
        await upgrade(store.engine)  # the PostgreSQL database is shared by the session's tests
        await store.close()


async def test_head_matches_the_table_definitions(database_url: str) -> None:
    store = Store.open(database_url)
    try:
        await store.migrate()
        async with store.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), metadata
                )
            )
        assert diff == []
    finally:
        await store.close()
