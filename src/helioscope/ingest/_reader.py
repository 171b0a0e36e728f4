"""Reading the journals for the writer: every worker's frames from a cursor of positions.

Positions are ``(segment, offset)`` per worker, keyed by the journal directory's id and the
worker (``key``): a store that outlives its journal directory, or serves several, never applies
one's positions to another. A read is bounded in frames and bytes, and goes round the workers
from a different one each time, so that a busy worker cannot starve the others. A bad frame is
skipped to the next intact one (corrupt) or, once it can no longer be a frame being written,
to the end of its segment (torn by a crash); each is counted in the writer's health.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from helioscope.ingest import _journal as journal
from helioscope.ingest._health import WriterHealth

logger = logging.getLogger("helioscope.ingest")

Position = tuple[str, int]


@dataclass(slots=True)
class Read:
    """Frames read from the journals, and what reading them moved and finished."""

    payloads: list[bytes] = field(default_factory=list)
    moved: dict[str, Position] = field(default_factory=dict)  # by key, where each ends
    finished: list[Path] = field(default_factory=list)  # sealed segments read through
    full: bool = False  # as many frames or bytes as asked for: the writer is behind


class JournalReader:
    """Reads the journals under ``root`` (one directory a worker)."""

    def __init__(self, root: Path, health: WriterHealth, torn_grace_seconds: float) -> None:
        self.root = root
        self.health = health
        self.torn_grace_seconds = torn_grace_seconds
        self._id = ""
        self._turn = 0

    def open(self) -> None:
        """Read the journal directory's id (the positions' keys start with it)."""
        self._id = journal.journal_id(self.root)

    def key(self, worker: str) -> str:
        """The key of ``worker``'s position in the store."""
        return f"{self._id}:{worker}"

    def read(self, cursor: dict[str, Position], max_count: int, max_bytes: int) -> Read:
        """At most ``max_count`` frames and about ``max_bytes`` bytes, from ``cursor`` on."""
        read = Read()
        budget = max_bytes
        names = journal.workers(self.root)
        self._turn = (self._turn + 1) % max(1, len(names))
        for worker in names[self._turn :] + names[: self._turn]:
            if len(read.payloads) >= max_count or budget <= 0:
                break
            key = self.key(worker)
            position, payloads, spent = self._read_worker(
                read, cursor.get(key), worker, max_count - len(read.payloads), budget
            )
            read.payloads += payloads
            budget -= spent
            if position != cursor.get(key):
                read.moved[key] = position
        read.full = len(read.payloads) >= max_count or budget <= 0
        return read

    def _read_worker(
        self, read: Read, start: Position | None, worker: str, max_count: int, max_bytes: int
    ) -> tuple[Position, list[bytes], int]:
        """From one worker's journal at ``start``: its new position, payloads and bytes read.

        The segments before it, and the sealed ones read through, go to ``read.finished``
        (deleted once their rows are stored).
        """
        directory = self.root / worker
        names = journal.segments(directory)
        segment, offset = start or (names[0] if names else "", 0)
        payloads: list[bytes] = []
        spent = 0
        for index, name in enumerate(names):
            if name < segment:  # stored, but its deletion was interrupted
                read.finished.append(directory / name)
                continue
            if name > segment:
                segment, offset = name, 0
            path = directory / name
            sealed = index < len(names) - 1
            while len(payloads) < max_count and spent < max_bytes:
                frames = journal.read_frames(
                    path,
                    offset,
                    max_bytes=max_bytes - spent,
                    max_count=max_count - len(payloads),
                )
                payloads.extend(frames.payloads)
                spent += frames.bytes
                offset = frames.offset
                if not frames.bad:
                    break
                skip_to = self._past_bad_frame(path, offset, sealed)
                if skip_to is None:
                    return (segment, offset), payloads, spent
                offset = skip_to
            if offset < path.stat().st_size or not sealed:
                break
            read.finished.append(path)
        return (segment, offset), payloads, spent

    def _past_bad_frame(self, path: Path, offset: int, sealed: bool) -> int | None:
        """Where to go on after a bad frame at ``offset``; None to wait for it to complete."""
        stale = time.time() - path.stat().st_mtime > self.torn_grace_seconds
        following = journal.next_good_frame(path, offset)
        if following is not None:
            self.health.corrupt_frames_skipped += 1
            logger.warning(
                "journal %s: corrupt frame at byte %d; skipped %d bytes to the next intact frame",
                path,
                offset,
                following - offset,
            )
            return following
        if not (sealed or stale):
            return None  # the last frame may still be being written
        size = path.stat().st_size
        self.health.torn_frames_skipped += 1
        logger.warning(
            "journal %s: torn last frame at byte %d (%d bytes, from a crash); skipped",
            path,
            offset,
            size - offset,
        )
        return size
