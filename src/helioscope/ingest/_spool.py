"""A directory of JSON-lines files that holds log rows the store could not take yet.

Rows land here when the in-memory queue is full, or at shutdown when the store is still down.
The writer replays the oldest file when it is idle and deletes it once every row is stored, so a
record survives restarts. Rows that the store rejects for their content go to
``dead-letter.jsonl`` (kept for a human, never retried automatically).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from helioscope.store import LogRow

_DATETIME_FIELDS = ("request_created_at", "response_created_at")


def _encode(row: LogRow) -> bytes:
    return orjson.dumps(row) + b"\n"


def _decode(line: bytes) -> LogRow:
    data: dict[str, Any] = orjson.loads(line)
    for name in _DATETIME_FIELDS:
        if data.get(name) is not None:
            data[name] = dt.datetime.fromisoformat(data[name])
    known = {f.name for f in dataclasses.fields(LogRow)}
    return LogRow(**{k: v for k, v in data.items() if k in known})


class Spool:
    """Append-only segment files of log rows, replayed oldest first."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._current: Path | None = None

    def append(self, rows: Iterable[LogRow]) -> int:
        """Write rows to the open segment; return how many were written."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._current is None:
            name = f"segment-{time.time_ns():020d}-{os.getpid()}.jsonl"
            self._current = self.directory / name
        data = b"".join(_encode(r) for r in rows)
        with self._current.open("ab") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        return data.count(b"\n")

    def dead_letter(self, row: LogRow, reason: str) -> None:
        """Keep a row the store refused, with the reason, for a human to look at."""
        self.directory.mkdir(parents=True, exist_ok=True)
        entry = orjson.dumps({"reason": reason, "row": row}) + b"\n"
        with (self.directory / "dead-letter.jsonl").open("ab") as fh:
            fh.write(entry)

    def segments(self) -> list[Path]:
        """Segment files waiting to be replayed, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("segment-*.jsonl"))

    def claim_oldest(self) -> tuple[Path, list[LogRow]] | None:
        """Close the open segment if it is the oldest, and return the oldest segment's rows."""
        segments = self.segments()
        if not segments:
            return None
        oldest = segments[0]
        if oldest == self._current:
            self._current = None  # later overflow goes to a new segment
        rows = [_decode(line) for line in oldest.read_bytes().splitlines() if line.strip()]
        return oldest, rows

    def pending_rows(self) -> int:
        """Rows waiting in segment files (counts lines; for metrics and tests)."""
        return sum(p.read_bytes().count(b"\n") for p in self.segments())
