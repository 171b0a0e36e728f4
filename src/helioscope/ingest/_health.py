"""What the log writer has been through: failures (logged once per cause) and counters."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from helioscope._outage import cause as describe

logger = logging.getLogger("helioscope.ingest")


def dead_letter(root: Path, row: object, reason: str) -> Path:
    """Append a row the store refused, with the reason, to ``root/dead-letter.jsonl``; its path.

    The file holds whole bodies: readable by the server's user alone, as the journal is (one an
    earlier version made is narrowed too).
    """
    path = (root / "dead-letter.jsonl").resolve()
    entry = orjson.dumps({"reason": reason, "row": row}) + b"\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, entry)
    finally:
        os.close(fd)
    return path


def replaying(records: int, oldest_ms: int | None) -> None:
    """At the writer's start: the records journalled before it that it now stores, and since when.

    A crash or an outage leaves them; without this an operator saw nothing of the replay.
    """
    if records:
        since = f", the oldest from {time.ctime(oldest_ms / 1000)}" if oldest_ms else ""
        logger.info("storing %d log records journalled before this start%s", records, since)


def left_behind(size: int, root: Path) -> None:
    """The drain's time is up: how much journal (``size`` bytes) stays for the next start."""
    logger.warning(
        "log store still behind at shutdown: %.1f MB of journal stay under %s for the next start",
        size / 1e6,
        root.resolve(),  # (the default directory is relative to where the server started)
    )


@dataclass(slots=True)
class WriterHealth:
    """Counters and the current failure of one log writer."""

    stored: int = 0
    dead_lettered: int = 0
    bodies_dropped: int = 0
    torn_frames_skipped: int = 0
    corrupt_frames_skipped: int = 0
    journal_errors: int = 0
    journal_failing: bool = False  # this process's appends fail now (records are being lost)
    failures: int = 0  # failed attempts in a row (0 when the last one succeeded)
    failing_since: float | None = None
    last_error: str | None = None
    recovered: int = 0  # failure streaks that ended in success
    _logged: set[str] = field(default_factory=set)
    _journal_lost: int = 0  # records lost since the journal began failing

    def journal_failed(self, exc: BaseException, records: int) -> None:
        """Count an append that failed (``records`` lost); log the first of an episode."""
        self.journal_errors += 1
        self._journal_lost += records
        if not self.journal_failing:
            self.journal_failing = True
            logger.error(
                "could not journal %s (%s); lost, as is every log record until the journal "
                "is writable again",
                f"{records} log records" if records > 1 else "a log record",
                describe(exc),
            )

    def journal_writable(self) -> None:
        """End an episode of failed appends (at the first append that succeeds), logged."""
        self.journal_failing = False
        logger.warning("journal writable again; %d log records lost meanwhile", self._journal_lost)
        self._journal_lost = 0

    def failed(self, exc: BaseException, retry_in: float) -> None:
        """Count a failed attempt; log it the first time this cause shows in this streak."""
        cause = describe(exc)
        self.failures += 1
        self.last_error = cause
        if self.failing_since is None:
            self.failing_since = time.time()
        if cause not in self._logged:
            self._logged.add(cause)
            logger.warning(
                "log writer: %s; retrying with back-off (first retry in %.1fs), "
                "records stay in the journal meanwhile",
                cause,
                retry_in,
            )

    def succeeded(self) -> None:
        """End a failure streak (logged once, with its length)."""
        if self.failing_since is None:
            return
        logger.warning(
            "log writer recovered after %d failed attempts over %.1fs",
            self.failures,
            time.time() - self.failing_since,
        )
        self.failures = 0
        self.failing_since = None
        self.recovered += 1
        self._logged.clear()

    def as_dict(self) -> dict[str, Any]:
        """The counters, for /health/ready (nothing secret: causes carry no statement text)."""
        return {
            "stored": self.stored,
            "failing": self.failing_since is not None,
            "failures": self.failures,
            "failing_seconds": (
                round(time.time() - self.failing_since, 3) if self.failing_since else 0.0
            ),
            "last_error": self.last_error,
            "recovered": self.recovered,
            "dead_lettered": self.dead_lettered,
            "bodies_dropped": self.bodies_dropped,
            "torn_frames_skipped": self.torn_frames_skipped,
            "corrupt_frames_skipped": self.corrupt_frames_skipped,
            "journal_errors": self.journal_errors,
            "journal_failing": self.journal_failing,
        }
