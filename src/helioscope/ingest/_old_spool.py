"""Records left in the previous version's disk spool, moved into the journal on first start.

The spool (``<database file>.spool``, ``./helioscope-spool``, or ``HELIOSCOPE_LOG_SPOOL_DIR``:
JSON-lines files of rows) held records the store could not take at shutdown. They are read a
line at a time (never a whole file), journalled, and the file is deleted. Whatever state it was
left in, it never stops the server: a line that does not parse (torn by a crash or a full disk)
is skipped and counted, and its dead letters are left for a human, named in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson

from helioscope.ingest._records import row_from_json
from helioscope.store import LogRow

logger = logging.getLogger("helioscope.ingest")

OLD_SPOOL_DIR = "HELIOSCOPE_LOG_SPOOL_DIR"
# Settings of the spool and its in-memory queue, removed with them: set, they do nothing now.
REMOVED_SETTINGS = {
    OLD_SPOOL_DIR: (
        "records are journalled in HELIOSCOPE_JOURNAL_DIR now; this directory is only read "
        "once, to move what the old spool left there into the journal"
    ),
    "HELIOSCOPE_LOG_QUEUE_SIZE": (
        "records are journalled, not queued in memory; see HELIOSCOPE_LOG_MEMORY_BYTES "
        "and HELIOSCOPE_JOURNAL_MAX_BYTES"
    ),
}


def warn_removed_settings(environ: Mapping[str, str]) -> list[str]:
    """Warn once for each removed setting still set (settings ignore unknown names); them."""
    found = [name for name in REMOVED_SETTINGS if name in environ]
    for name in found:
        logger.warning("%s is no longer a setting and is ignored: %s", name, REMOVED_SETTINGS[name])
    return found


def old_spool_dir(environ: Mapping[str, str], default: Path) -> Path:
    """Where the previous version spooled: its setting, still read for this, or ``default``."""
    configured = environ.get(OLD_SPOOL_DIR)
    return Path(configured) if configured else default


def adopt_old_spool(
    directory: Path, enqueue: Callable[[LogRow], None], journal_errors: Callable[[], int]
) -> int:
    """Journal every row of the old spool's segments and delete them; the rows moved.

    ``journal_errors`` counts the journal's failed appends: a segment during which one failed
    (a full disk) is kept, to be moved again at the next start (a row moved twice is stored
    once: rows are upserted by their id).
    """
    if not directory.is_dir():
        return 0
    moved = skipped = 0
    for path in sorted(directory.glob("segment-*.jsonl")):
        errors = journal_errors()
        try:
            rows, torn = _move(path, enqueue)
        except OSError as exc:  # unreadable: left where it is, for a human
            logger.warning("could not read the old spool's %s (%s); left in place", path, exc)
            continue
        moved += rows
        skipped += torn
        if journal_errors() == errors:
            path.unlink()
        else:
            logger.warning("the journal failed while moving %s: kept, to move again", path)
    if moved:
        logger.warning(
            "moved %d log records from the old spool %s to the journal", moved, directory
        )
    if skipped:
        logger.warning(
            "skipped %d lines of the old spool %s that do not parse (torn by a crash or a full "
            "disk); the other records were moved",
            skipped,
            directory,
        )
    dead = directory / "dead-letter.jsonl"
    if dead.is_file():
        logger.warning(
            "the old spool's dead letters (rows the store refused, not retried) are kept in %s",
            dead,
        )
    return moved


def _move(path: Path, enqueue: Callable[[LogRow], None]) -> tuple[int, int]:
    """Journal the rows of one segment, a line at a time; (rows moved, lines skipped)."""
    moved = skipped = 0
    with path.open("rb") as lines:
        for line in lines:
            if not line.strip():
                continue
            row = _row(line)
            if row is None:
                skipped += 1
            else:
                enqueue(row)
                moved += 1
    return moved, skipped


def _row(line: bytes) -> LogRow | None:
    try:
        data: dict[str, Any] = orjson.loads(line)
        return row_from_json(data)
    except (orjson.JSONDecodeError, TypeError, ValueError, AttributeError):
        return None  # torn (cut short), or not a row at all
