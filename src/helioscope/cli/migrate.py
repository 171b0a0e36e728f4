"""``helioscope migrate``: bring the schema up to date by hand."""

from __future__ import annotations

import asyncio

import typer

from helioscope.cli._store import open_store
from helioscope.config import Settings


def migrate() -> None:
    """Bring the database schema up to date."""

    async def run() -> None:
        async with open_store(Settings()):
            pass  # opening migrates

    asyncio.run(run())
    typer.echo("database is up to date")
