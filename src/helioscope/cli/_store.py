"""Every command says which store it uses, and warns before it creates one.

A store created by mistake (``helioscope keys create`` run from another directory, with the
default ``sqlite:///helioscope.db`` relative to it) holds keys no running server knows, which
then answers 401. Saying where the store is, on stderr, makes that visible at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import typer

from helioscope._outage import cause, store_failure
from helioscope.config import Settings
from helioscope.services import open_store as configured_store
from helioscope.store import Store


def note(message: str) -> None:
    """A line for the person at the terminal (stderr: stdout may be data or a key)."""
    typer.echo(f"helioscope: {message}", err=True)


async def announce(store: Store, *, creating: bool = True, named: bool = True) -> bool:
    """Say which store this is; warn if it holds no Helioscope tables. True if initialised.

    ``named=False``: the caller said which store it is already (once, before retrying this).
    """
    if named:
        note(f"store: {store.location}")
    initialised = await store.is_initialised()
    if not initialised and creating:
        note(
            f"warning: no Helioscope store at {store.location}: creating a new, empty one. "
            "A server using another store (another HELIOSCOPE_DATABASE_URL, or started from "
            "another directory) will not see what this command writes."
        )
    return initialised


@contextmanager
def store_errors(store: Store, where: str | None = None) -> Iterator[None]:
    """A store that cannot be reached or used ends the command with one line and status 1.

    Not a traceback (a command run during a PostgreSQL outage printed 550 lines): the line
    names the store (without its password), or ``where`` (the part of it that failed), and
    the driver's cause. An error of the ClickHouse that keeps the log names it.
    """
    try:
        yield
    except Exception as exc:
        if not store_failure(exc):
            raise
        note(f"error: cannot use the store {where or store.part_of(exc)} ({cause(exc)})")
        raise typer.Exit(1) from None


@asynccontextmanager
async def open_store(settings: Settings, *, create: bool = True) -> AsyncIterator[Store]:
    """The configured store, announced and migrated; closed on exit.

    With ``create=False`` a store that does not exist yet is an error (exit status 1), and
    nothing is created.
    """
    store = configured_store(settings)
    try:
        # Each part that can be down, named if it is (a ClickHouse server down was named as
        # the SQLite file beside it); a hung one's error says how long it waited.
        for where, probe in store.probes():
            with store_errors(store, where):
                await probe()
        with store_errors(store):
            initialised = await announce(store, creating=create)
            if not initialised and not create:
                note(f"error: no Helioscope store at {store.location}; set HELIOSCOPE_DATABASE_URL")
                raise typer.Exit(1)
            await store.migrate()
        yield store
    finally:
        await store.close()
