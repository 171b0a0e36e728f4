"""The journal's room for bodies: whether a record may keep them, or is journalled without.

Records keep their bodies while the journal holds less than ``max_bytes``
(``HELIOSCOPE_JOURNAL_MAX_BYTES``) and its filesystem has room past a reserve
(``_journal.reserve_bytes``). Its size on disk is looked at once a second (other workers
append, the writer deletes) and grown by each append meanwhile.
"""

from __future__ import annotations

import time
from pathlib import Path

from helioscope.ingest import _journal as journal

# How soon the size is looked at again before a body is dropped (a look lists the segments). The
# estimate grows by each append and never by a deletion: without a second look, more bodies
# a second than the bound were dropped with the writer caught up and nothing waiting.
_RELOOK_SECONDS = 0.05


class Room:
    """What one process knows of its journal directory's size against the bound."""

    def __init__(self, root: Path, journal_: journal.Journal, max_bytes: int) -> None:
        self.root = root
        self.journal = journal_
        self.max_bytes = max_bytes
        self.bytes = self.limit = 0  # (the limit: also the disk's free space)
        self.checked = -float("inf")  # when it was last looked at (the first append looks)
        self.looked_full = False  # whether that look found the bound (or the reserve) reached
        self.sealed = -float("inf")  # when a full journal last had this segment sealed

    def grew(self, size: int) -> None:
        """``size`` bytes were appended."""
        self.bytes += size

    def full(self, size: int) -> bool:
        """Whether ``size`` more bytes of bodies pass ``max_bytes`` or the disk's reserve."""
        now = time.monotonic()
        full = self.bytes + size > self.limit
        # Soon again only when the estimate alone grew past the bound: a look that found it
        # full stands for a second (a look lists and stats every worker's segments, on the
        # event loop of every worker, which would do it 20 times a second during an outage).
        soon = full and not self.looked_full
        if now - self.checked > (_RELOOK_SECONDS if soon else 1.0):
            self.checked = now
            self.bytes = journal.disk_bytes(self.root)[0]
            spare = journal.spare_bytes(self.root)  # appends use it as they grow ``bytes``
            self.limit = min(self.max_bytes, self.bytes + spare)
            self.looked_full = self.bytes >= self.limit
            # What is stored then frees its room (sealed: deleted): each process's open
            # segment holds stored records until it is sealed, and with N workers N segments
            # do (an eighth of the bound each: _journal.segment_size). Every 5 s at most: with
            # the store down, sealing at every look made a file of a few records each time.
            if self.looked_full:
                self.release()
            full = self.bytes + size > self.limit
        return full

    def release(self) -> None:
        """Seal the open segment (every 5 s at most), so that what of it is stored is deleted.

        Also asked by readiness while appends fail: on a disk the journal itself filled, its
        open segment held records stored long since, no append could succeed to seal it, and
        readiness, which keeps calls away, answered 503 for good after the store was back.
        """
        now = time.monotonic()
        if now - self.sealed > 5.0:
            self.sealed = now
            self.journal.seal()
