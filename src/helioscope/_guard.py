"""Observability never breaks the observed call, but never hides a bug in tests.

Everything the gateway does *for logging* (teeing the body, parsing usage, pricing, enqueueing)
runs inside ``guard.internal_errors()``. In production an exception there is logged and the
proxied call carries on; with ``raise_internal_errors`` (set by the test suite) it is re-raised.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger("helioscope.internal")


class InternalErrorGuard:
    """Catches and reports errors in code that must not fail the caller."""

    def __init__(self, *, reraise: bool) -> None:
        self.reraise = reraise
        self.count = 0

    @contextmanager
    def internal_errors(self, what: str) -> Iterator[None]:
        """Run the body; report (or re-raise under tests) any exception it raises."""
        try:
            yield
        except Exception:
            self.count += 1
            logger.exception("internal error while %s", what)
            if self.reraise:
                raise
