"""``helioscope import helicone``: move in from Helicone (or any server speaking its API)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from helioscope.cli._options import Since, Until, parse_time
from helioscope.cli._progress import ProgressBar
from helioscope.cli._store import note, open_store
from helioscope.config import Settings
from helioscope.helicone_import import (
    DEFAULT_BASE_URL,
    CheckpointMismatch,
    ImportOptions,
    ImportResult,
    SourceError,
    run_import,
)
from helioscope.store import keys

import_app = typer.Typer(help="Import history from another service.")


def _report(result: ImportResult) -> None:
    t = result.tally
    note(
        f"imported {t.requests} requests ({t.bodies_from_urls} bodies from signed URLs, "
        f"{t.feedback} feedback, {t.scored} scored), {t.session_tags} session tags, "
        f"{t.prompts} prompts ({t.prompt_versions} versions), {t.datasets} datasets "
        f"({t.dataset_rows} rows)"
    )
    if result.throttled:
        note(f"the source rate-limited {result.throttled} calls; each was retried after waiting")
    for item in t.skipped:
        note(f"skipped: {item}")
    note(f"checkpoint: {result.checkpoint} (run the same command again to fetch what is new)")


async def _import(settings: Settings, org: str, options: ImportOptions) -> ImportResult:
    async with open_store(settings) as store:
        known = {o.name for o in await store.read(keys.list_orgs)}
        organization = await store.write(keys.get_or_create_org, org)
        if organization.name not in known:
            note(f"created organization {organization.name!r} ({organization.id})")
        note(f"importing from {options.base_url} into organization {organization.name!r}")
        with ProgressBar() as bar:
            return await run_import(store, organization.id, organization.name, options, bar)


@import_app.command("helicone")
def import_helicone(
    api_key: Annotated[
        str, typer.Option(help="A Helicone API key (read access).", envvar="HELICONE_API_KEY")
    ],
    base_url: Annotated[str, typer.Option(help="The Helicone API to read.")] = DEFAULT_BASE_URL,
    since: Since = None,
    until: Until = None,
    org: Annotated[
        str, typer.Option(help="Local organization to import into; created if need be.")
    ] = "default",
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="Checkpoint file (default: .helioscope-import-<hash>.json here)."),
    ] = None,
) -> None:
    """Import requests, sessions, feedback, scores, prompts and datasets from Helicone.

    Resumable (a checkpoint file records progress) and idempotent (running it again adds
    nothing twice); rate limits (429) are waited out.
    """
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:  # (it was a traceback)
        raise typer.BadParameter(f"--base-url must be an http(s):// URL, got {base_url!r}")
    options = ImportOptions(
        api_key=api_key,
        base_url=base_url,
        since=parse_time(since),
        until=parse_time(until),
        checkpoint=checkpoint,
    )
    try:
        result = asyncio.run(_import(Settings(), org.strip() or "default", options))
    except (SourceError, CheckpointMismatch) as exc:
        note(f"error: {exc}")
        note("what was imported so far is kept; run the same command again to continue")
        raise typer.Exit(1) from exc
    _report(result)
