"""Alembic migrations, run programmatically at startup over the async engine."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at our migrations, optionally bound to a connection."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def head_revision() -> str | None:
    """The newest revision of our migrations (reading them once per process)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate the database up to ``revision`` (default: the newest).

    A database already at the newest revision is left alone after one query: Alembic would
    load and execute every migration file to find that out, on every start of every process.
    """
    async with engine.begin() as conn:

        def migrate(sync: Connection) -> None:
            current = MigrationContext.configure(sync).get_current_revision()
            if revision == "head" and current is not None and current == head_revision():
                return
            command.upgrade(alembic_config(sync), revision)

        await conn.run_sync(migrate)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Migrate the database down to ``revision``."""
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None before the first migration."""
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
