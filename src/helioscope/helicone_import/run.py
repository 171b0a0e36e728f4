"""One import, step by step.

Requests (with bodies, feedback and scores), session tags, prompts, datasets. Each step is
idempotent; the checkpoint lets an interrupted import skip finished steps and continue the
requests from their cursor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from helioscope.helicone_import._checkpoint import Checkpoint
from helioscope.helicone_import._client import HeliconeClient, SourceError
from helioscope.helicone_import._context import Context, Progress, SilentProgress, Tally
from helioscope.helicone_import._datasets import import_datasets
from helioscope.helicone_import._prompts import import_prompts
from helioscope.helicone_import._requests import PAGE_SIZE, import_requests
from helioscope.helicone_import._sessions import import_session_tags
from helioscope.store import Store

DEFAULT_BASE_URL = "https://api.helicone.ai"


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """Where to import from, which window, and where the checkpoint lives."""

    api_key: str
    base_url: str = DEFAULT_BASE_URL
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    checkpoint: Path | None = None  # default: Checkpoint.default_path(key)
    page_size: int = PAGE_SIZE
    retry_seconds: float = 1.0  # first backoff after a 429 without Retry-After, or a 5xx
    max_attempts: int = 8  # tries of one call before the import stops (resumable)

    def key(self, org_name: str) -> dict[str, str | None]:
        """What makes two runs the same import (the API key is left out: it may rotate)."""
        return {
            "source": self.base_url.rstrip("/"),
            "organization": org_name,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did, and the 429s it waited out."""

    tally: Tally
    throttled: int
    checkpoint: Path


async def _session_tags(ctx: Context) -> None:
    try:
        await import_session_tags(ctx)
    except SourceError as exc:  # Helicone's public API documents no session tag route
        ctx.tally.skipped.append(f"session tags: {exc}")


async def run_import(
    store: Store,
    org_id: str,
    org_name: str,
    options: ImportOptions,
    progress: Progress | None = None,
) -> ImportResult:
    """Import everything the key can read at the source into ``org_id``.

    Raises ``SourceError`` when the source refuses or keeps failing (the checkpoint then holds
    what was done), ``CheckpointMismatch`` when the checkpoint belongs to another import.
    """
    key = options.key(org_name)
    path = options.checkpoint or Checkpoint.default_path(key)
    checkpoint = Checkpoint.load(path, key)
    timeout = aiohttp.ClientTimeout(total=300, connect=30)
    progress = progress or SilentProgress()
    async with aiohttp.ClientSession(timeout=timeout) as session:
        client = HeliconeClient(
            session,
            options.base_url,
            options.api_key,
            first_delay=options.retry_seconds,
            max_attempts=options.max_attempts,
            retrying=progress.retrying,
        )
        ctx = Context(client, store, org_id, progress, options.since, options.until)
        steps: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            (
                "requests",
                lambda: import_requests(
                    ctx, checkpoint.requests, lambda: checkpoint.save(path), options.page_size
                ),
            ),
            ("session tags", lambda: _session_tags(ctx)),
            ("prompts", lambda: import_prompts(ctx)),
            ("datasets", lambda: import_datasets(ctx)),
        ]
        for name, step in steps:
            if name in checkpoint.phases_done:
                continue
            await step()
            checkpoint.phases_done.append(name)
            checkpoint.save(path)
    # Finished: the next run starts over at every step but the requests' cursor, so it brings
    # in only what is new (and updates what changed).
    checkpoint.phases_done.clear()
    checkpoint.save(path)
    return ImportResult(ctx.tally, client.throttled, path)
