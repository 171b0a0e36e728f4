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
from typing import Any, BinaryIO

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
        self._file: BinaryIO | None = None  # the open segment, kept open while overflowing

    def append(self, rows: Iterable[LogRow], *, sync: bool = False) -> int:
        """Write rows to the open segment; return how many were written.

        ``sync`` forces them to disk (at shutdown). Overflow under load does not: one fsync per
        row would slow the server exactly when it is busiest, and the page cache already
        survives a crash of the process.
        """
        if self._file is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            name = f"segment-{time.time_ns():020d}-{os.getpid()}.jsonl"
            self._current = self.directory / name
            self._file = self._current.open("ab")
        data = b"".join(_encode(r) for r in rows)
        self._file.write(data)
        if sync:
            self._file.flush()
            os.fsync(self._file.fileno())
        return data.count(b"\n")

    def close_segment(self) -> None:
        """Close the open segment (it is complete; later overflow starts a new one)."""
        if self._file is not None:
            self._file.close()
            self._file = None
            self._current = None

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
            self.close_segment()  # later overflow goes to a new segment
        rows = [_decode(line) for line in oldest.read_bytes().splitlines() if line.strip()]
        return oldest, rows

    def pending_rows(self) -> int:
        """Rows waiting in segment files (counts lines; for metrics and tests)."""
        return sum(p.read_bytes().count(b"\n") for p in self.segments())
