"""``helioscope journal``: the journal directories the store holds positions of.

A server warns at start of journal directories the store has stored from that are not its own
(``ingest/_other_journals``): another server's sharing the store, or an earlier directory of
this one that may still hold records. Once such a directory is drained (a server run on it
until /health/ready shows no lag, then stopped) or gone, ``forget`` removes its positions, and
with them the warning. Forget only a directory no server runs on: a server that goes on with
it would, at its next start, read its journal from the segments it still has, and store their
records again (the log keeps one row each, but webhooks and online evaluators see them twice).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from helioscope.cli._store import note, open_store
from helioscope.config import Settings
from helioscope.services import journal_dir
from helioscope.store.log.journal import forget_journal

journal_app = typer.Typer(help="The log journal directories the store knows.")


@journal_app.command("forget")
def journal_forget(
    journal_id: Annotated[
        str, typer.Argument(help="The journal-id the start-up warning names.", show_default=False)
    ],
) -> None:
    """Forget a drained or lost journal directory no server runs on: the warning stops naming it.

    This server's own journal directory (HELIOSCOPE_JOURNAL_DIR, as `serve` would use it from
    here) is refused.
    """
    journal_id = journal_id.strip()
    if not journal_id or ":" in journal_id:
        raise typer.BadParameter(f"not a journal-id: {journal_id!r}")
    settings = Settings()

    async def run() -> int:
        async with open_store(settings, create=False) as store:
            own = journal_dir(settings, store).resolve() / "journal-id"
            try:
                own_id = own.read_text().strip() if own.is_file() else None
            except OSError as exc:
                note(f"error: cannot read {own} ({exc.strerror}), to tell it from {journal_id}")
                raise typer.Exit(1) from None
            if own_id == journal_id:
                note(
                    f"error: {journal_id} is this server's own journal directory "
                    f"({own.parent}); its positions are where it resumes"
                )
                raise typer.Exit(1)
            return await store.write(forget_journal, journal_id)

    forgotten = asyncio.run(run())
    if not forgotten:
        note(f"error: the store holds no positions of journal {journal_id}")
        raise typer.Exit(1)
    typer.echo(f"forgot journal {journal_id} ({forgotten} worker position(s))")
