"""Records left in the previous version's disk spool, moved into the journal on first start.

The spool (``<database file>.spool`` or ``./helioscope-spool``: JSON-lines files of rows) held
records the store could not take at shutdown. They are read a line at a time (never a whole
file), journalled, and the file is deleted; its dead letters are left for a human.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from helioscope.ingest._records import row_from_json
from helioscope.store import LogRow

logger = logging.getLogger("helioscope.ingest")


def adopt_old_spool(directory: Path, enqueue: Callable[[LogRow], None]) -> int:
    """Journal every row of the old spool's segments and delete them; the rows moved."""
    if not directory.is_dir():
        return 0
    moved = 0
    for path in sorted(directory.glob("segment-*.jsonl")):
        with path.open("rb") as lines:
            for line in lines:
                if line.strip():
                    data: dict[str, Any] = orjson.loads(line)
                    enqueue(row_from_json(data))
                    moved += 1
        path.unlink()
    if moved:
        logger.warning(
            "moved %d log records from the old spool %s to the journal", moved, directory
        )
    return moved
