"""The log writer's reads of a worker's journal: frames from a position, past bad ones.

A corrupt frame with intact frames after it is skipped to the next one; a bad last frame is
torn (a crash mid-``write()``) and skipped once its segment is sealed or has not grown for the
grace, or else waited for (it may still be being written). Each skip is counted in the writer's
health and logged. A frame met half written, as its append was copying it in, is whole once a
frame follows it: it is read then, not skipped. (Run off the event loop: it reads files.)
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from helioscope.ingest import _journal as journal
from helioscope.ingest._health import WriterHealth

logger = logging.getLogger("helioscope.ingest")

Position = tuple[str, int]


def read_worker(
    directory: Path,
    position: Position | None,
    *,
    max_count: int,
    max_bytes: int,
    grace_seconds: float,
    health: WriterHealth,
) -> tuple[Position, list[bytes], list[Path], int]:
    """From a worker's journal, from ``position`` (None: its start): what the writer reads.

    The new position, at most ``max_count`` payloads of at most ``max_bytes`` in all, the
    sealed segments read through (to delete once stored), and the bytes read.
    """
    names = journal.segments(directory)
    segment, offset = position or (names[0] if names else "", 0)
    payloads: list[bytes] = []
    finished: list[Path] = []
    spent = 0
    for index, name in enumerate(names):
        if name < segment:  # stored, but its deletion was interrupted
            finished.append(directory / name)
            continue
        if name > segment:
            segment, offset = name, 0
        path = directory / name
        sealed = index < len(names) - 1
        while len(payloads) < max_count and spent < max_bytes:
            read = journal.read_frames(
                path, offset, max_bytes=max_bytes - spent, max_count=max_count - len(payloads)
            )
            payloads.extend(read.payloads)
            spent += read.bytes
            offset = read.offset
            if not read.bad:
                break
            skip_to = past_bad_frame(
                path, offset, sealed=sealed, grace_seconds=grace_seconds, health=health
            )
            if skip_to is None:
                return (segment, offset), payloads, finished, spent
            offset = skip_to
        if offset < path.stat().st_size or not sealed:
            break
        finished.append(path)
    return (segment, offset), payloads, finished, spent


def past_bad_frame(
    path: Path, offset: int, *, sealed: bool, grace_seconds: float, health: WriterHealth
) -> int | None:
    """Where to go on after a bad frame at ``offset``; None to wait for it to complete."""
    if journal.intact_at(path, offset):
        # Met half written, as its append was copying it in: whole now, so read it. (Skipped
        # as corrupt once the next frame followed, it was a record lost: 1 in 10,000 under
        # bench/cpu_ab.py's load, with the writer in its own process.)
        return offset
    stale = time.time() - path.stat().st_mtime > grace_seconds
    following = journal.next_good_frame(path, offset)
    if following is not None:
        # Frames are appended one after another, each in one write: with a later frame there,
        # this one is as whole as it will ever be, and it is not.
        health.corrupt_frames_skipped += 1
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
    health.torn_frames_skipped += 1
    logger.warning(
        "journal %s: torn last frame at byte %d (%d bytes, from a crash); skipped",
        path,
        offset,
        size - offset,
    )
    return size
