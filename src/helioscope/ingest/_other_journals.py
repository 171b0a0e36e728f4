"""Journals the store has stored from that this journal directory does not hold.

Read positions are kept per journal directory (its ``journal-id``) and worker
(``LogWriter._key``). A directory the store knows and this one is not may be another server's
sharing the store, or one this server used before: the default for PostgreSQL and ClickHouse
is ``./helioscope-journal``, relative to the directory the server is started in, so a server
started from elsewhere leaves the records still in the first one unstored, and says nothing.
A position only says how far a journal was stored, not how far it went: whether one of these
still holds records cannot be told from here, and the warning says so.
"""

from __future__ import annotations

import logging
from pathlib import Path

from helioscope.ingest import _journal as journal
from helioscope.store import Store

logger = logging.getLogger("helioscope.ingest")


async def warn_of_other_journals(store: Store, root: Path) -> list[str]:
    """Warn once if the store has positions in journals not under ``root``; their ids."""
    try:
        positions = await store.journal_positions()
    except Exception:  # the store is down: the writer reports that itself
        return []
    here = journal.journal_id(root)
    others = sorted({key.partition(":")[0] for key in positions} - {here})
    if others:
        logger.warning(
            "the store holds records from %d other journal director%s (journal-id %s), not %s "
            "(journal-id %s). Other servers sharing this store have their own; if one was this "
            "server's earlier journal directory (HELIOSCOPE_JOURNAL_DIR changed, or the server "
            "started from another directory: the default is ./helioscope-journal), it may "
            "still hold records not stored (that cannot be told from here): start the server "
            "once with HELIOSCOPE_JOURNAL_DIR set to it until /health/ready shows no lag. Once "
            "one is drained or gone, `helioscope journal forget JOURNAL-ID` stops this warning.",
            len(others),
            "y" if len(others) == 1 else "ies",
            ", ".join(others),
            root.resolve(),
            here,
        )
    return others
