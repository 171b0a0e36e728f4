"""``helioscope export``: the filtered log as JSONL, CSV or Parquet, streamed page by page."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import orjson
import typer

from helioscope.cli._options import Since, Until, existing_org, parse_time
from helioscope.cli._progress import ProgressBar
from helioscope.cli._store import note, open_store
from helioscope.config import Settings
from helioscope.errors import HelioscopeError
from helioscope.export import ExportQuery, count, export_chunks, open_encoder
from helioscope.store import Store


def _read_filter(path: Path | None) -> Any:
    """A filter tree from a JSON file: the tree itself, or a request body holding ``filter``."""
    if path is None:
        return "all"
    try:
        document = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise typer.BadParameter(f"--filter {path}: not a readable JSON file ({exc})") from exc
    if isinstance(document, dict) and "filter" in document:
        return document["filter"]
    return document


async def _write(
    store: Store, org_id: str, query: ExportQuery, fmt: str, sink: BinaryIO, total: int
) -> int:
    written = 0
    with ProgressBar() as bar:
        bar.phase("export", total)
        async for chunk in export_chunks(store, org_id, query, open_encoder(fmt)):
            sink.write(chunk.data)
            written += chunk.records
            bar.advance(chunk.records)
    return written


async def _export(
    settings: Settings, org: str | None, query: ExportQuery, fmt: str, output: Path | None
) -> None:
    open_encoder(fmt)  # a missing optional package fails before anything else happens
    async with open_store(settings, create=False) as store:
        organization = await existing_org(store, org)
        total = await count(store, organization.id, query)  # also checks the filter
        note(f"exporting {total} requests of organization {organization.name!r} as {fmt}")
        if output is None:
            written = await _write(store, organization.id, query, fmt, sys.stdout.buffer, total)
            sys.stdout.buffer.flush()
        else:
            # Written beside the target and renamed at the end: a cut-short export never
            # passes for a complete one (and none is left behind by a failed one).
            partial = output.with_name(output.name + ".partial")
            if output.exists() and not output.is_file():  # /dev/stdout, a FIFO: written as is
                partial = output  # (renamed over, the device or pipe became a regular file)
            try:
                with partial.open("wb") as sink:
                    written = await _write(store, organization.id, query, fmt, sink, total)
                if partial != output:
                    os.replace(partial, output)
            except OSError as exc:  # no such directory, not writable, a full disk
                if partial != output:
                    partial.unlink(missing_ok=True)
                note(f"error: cannot write {exc.filename or output}: {exc.strerror or exc}")
                raise typer.Exit(1) from None
        note(f"exported {written} requests" + (f" to {output}" if output else ""))


def export(
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="jsonl, csv or parquet (needs pyarrow).")
    ] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    filter_file: Annotated[
        Path | None,
        typer.Option(
            "--filter",
            help="JSON file with a Helicone filter tree, or a request query body with 'filter'.",
        ),
    ] = None,
    since: Since = None,
    until: Until = None,
    org: Annotated[
        str | None, typer.Option(help="Organization to export (default: the only one).")
    ] = None,
    bodies: Annotated[
        bool, typer.Option("--bodies/--no-bodies", help="Include request and response bodies.")
    ] = True,
) -> None:
    """Export the request log, oldest first, with a progress bar on stderr."""
    if fmt == "parquet" and output is None and sys.stdout.isatty():
        raise typer.BadParameter("Parquet is binary: write it to a file with --output")
    query = ExportQuery(_read_filter(filter_file), parse_time(since), parse_time(until), bodies)
    try:
        asyncio.run(_export(Settings(), org, query, fmt, output))
    except HelioscopeError as exc:  # a bad filter or format, a missing pyarrow
        note(f"error: {exc.message}")
        raise typer.Exit(2) from exc
