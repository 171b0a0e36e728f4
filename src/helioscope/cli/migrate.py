"""``helioscope migrate``: bring the schema up to date by hand, or copy the log to ClickHouse."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from helioscope.cli._progress import ProgressBar
from helioscope.cli._store import note, open_store
from helioscope.config import Settings
from helioscope.store import Store


async def _copy_to_clickhouse(store: Store, page_size: int) -> bool:
    from helioscope.store.clickhouse import copy_log

    assert store.clickhouse is not None
    with ProgressBar() as bar:

        def started(total: int, done: int) -> None:
            if done:
                note(f"resuming: {done} rows were copied by an earlier run")
            bar.phase("copy log", total)
            bar.advance(done)

        report = await copy_log(
            store,
            store.location,
            store.clickhouse.clickhouse,
            page_size=page_size,
            started=started,
            advanced=bar.advance,
        )
    for count in report.counts:
        verdict = "ok" if count.source == count.clickhouse else "MISMATCH"
        note(f"{count.table}: {count.source} here, {count.clickhouse} in ClickHouse: {verdict}")
    return report.verified


def migrate(
    to_clickhouse: Annotated[
        bool,
        typer.Option(
            "--to-clickhouse",
            help=(
                "Copy the SQLite/PostgreSQL request log into HELIOSCOPE_CLICKHOUSE_URL "
                "(resumable: run it again after a stop), then compare row counts."
            ),
        ),
    ] = False,
    page_size: Annotated[
        int, typer.Option(min=1, help="Log rows per ClickHouse insert (with --to-clickhouse).")
    ] = 10_000,
) -> None:
    """Bring the database schema up to date (and copy the log to ClickHouse if asked)."""
    settings = Settings()
    if to_clickhouse and settings.clickhouse_url is None:
        note("error: --to-clickhouse copies into HELIOSCOPE_CLICKHOUSE_URL, which is not set")
        raise typer.Exit(2)

    async def run() -> bool:
        async with open_store(settings) as store:
            return await _copy_to_clickhouse(store, page_size) if to_clickhouse else True

    if not asyncio.run(run()):
        note("error: the copy is incomplete (counts differ); run the command again")
        raise typer.Exit(1)
    typer.echo("log copied to ClickHouse" if to_clickhouse else "database is up to date")
