"""One store outage, logged once when it starts and once when it ends.

The key cache, the REST API and the readiness probe all notice an unreachable store; without
this, each call during an outage wrote its own warning (a 30 s PostgreSQL outage once wrote
3,887 "could not re-check an API key" lines).
"""

from __future__ import annotations

import logging
import time

logger = logging.getLogger("helioscope")


class Outage:
    """Whether the store is known to be unreachable, and since when."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.cause: str | None = None
        self.noticed = 0  # failures seen during the current outage
        # Whether any call ever reached the store in this process: until one has, no key can
        # be checked and the gateway can only refuse calls (readiness says so: api/health).
        self.reached = False

    def down(self, where: str, exc: BaseException) -> None:
        """A call found the store unreachable (logged only if it was up until now)."""
        self.noticed += 1
        if self.since is not None:
            return
        self.since = time.monotonic()
        orig = getattr(exc, "orig", None)  # the driver's message, never SQLAlchemy's statement
        self.cause = f"{type(orig or exc).__name__}: {orig or exc}"
        logger.warning(
            "store unreachable (%s, noticed by %s); serving what can be", self.cause, where
        )

    def up(self) -> None:
        """A call reached the store (logs the end of an outage)."""
        self.reached = True
        if self.since is None:
            return
        logger.warning(
            "store reachable again after %.1fs (%d calls found it unreachable)",
            time.monotonic() - self.since,
            self.noticed,
        )
        self.since = None
        self.cause = None
        self.noticed = 0
