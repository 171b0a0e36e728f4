"""Who may use a journal directory.

A process appending to ``<root>/<worker>`` holds an exclusive ``flock`` on ``<worker>/lock``,
and the process that drains the root (the log writer) one on ``<root>/writer.lock``, for as
long as it journals. Two servers on one directory would otherwise both be worker 0: each
writer deletes the segments it has stored, the one the other is appending to among them. The
kernel drops a ``flock`` when its process dies, so a killed server never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Sequence
from pathlib import Path

WORKER_LOCK = "lock"  # in a worker's directory: held by the process appending to it
WRITER_LOCK = "writer.lock"  # in the root: held by the process that drains every worker's


class JournalInUse(Exception):
    """Another process appends to this worker's journal, or drains this journal root."""

    def __init__(self, root: Path) -> None:
        super().__init__(
            f"the journal directory {root.resolve()} is in use by another process (another "
            "`helioscope serve` on it?): stop that one, or give this one a journal directory "
            "of its own with HELIOSCOPE_JOURNAL_DIR"
        )


# Locks taken before the app starts (``claim_journal``), for the journal and the writer to adopt.
_claimed: dict[Path, int] = {}


def hold(path: Path, root: Path) -> int:
    """An exclusive lock on ``path`` (made if need be) for this process; its descriptor.

    Closing the descriptor releases it, and so does the process's death. Raises
    ``JournalInUse`` (naming ``root``) when another open of it holds the lock already.
    """
    claimed = _claimed.pop(path, -1)
    if claimed >= 0:
        return claimed
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise JournalInUse(root) from None
    return fd


def claim_journal(root: Path, worker: str, *, drains: bool) -> None:
    """Take now the locks this process's journal (and writer, if it ``drains``) will hold.

    ``serve`` claims them before the server starts, so that a directory in use is told in
    one line and an exit, not as a failed startup's traceback; the ``Journal`` and the
    ``LogWriter`` opened later on the same paths adopt them.
    """
    paths = [root / WRITER_LOCK] if drains else []
    for path in [*paths, root / worker / WORKER_LOCK]:
        _claimed[path] = hold(path, root)


def check_free(root: Path, workers: Sequence[str]) -> None:
    """Raise ``JournalInUse`` if another process drains ``root`` or appends as one of ``workers``.

    The locks are taken and let go at once: for a supervisor, whose children take them.
    """
    for path in [root / WRITER_LOCK, *(root / worker / WORKER_LOCK for worker in workers)]:
        os.close(hold(path, root))
