"""Observability never breaks the observed call, but never hides a bug in tests.

Everything the gateway does *for logging* (teeing the body, parsing usage, pricing, enqueueing)
runs inside ``guard.internal_errors()``. In production an exception there is logged and the
proxied call carries on; with ``raise_internal_errors`` (set by the test suite) it is re-raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

logger = logging.getLogger("helioscope.internal")


class InternalErrorGuard:
    """Catches and reports errors in code that must not fail the caller."""

    def __init__(self, *, reraise: bool) -> None:
        self.reraise = reraise
        self.count = 0

    @contextmanager
    def internal_errors(
        self, what: str, summary: Callable[[BaseException], str] | None = None
    ) -> Iterator[None]:
        """Run the body; report (or re-raise under tests) any exception it raises.

        ``summary``: report it as that one line, without its traceback, for an error whose chain
        carries values that must not reach the log (a refused log row's, in the driver's detail).
        """
        try:
            yield
        except Exception as exc:
            self.count += 1
            if summary is None:
                logger.exception("internal error while %s", what)
            else:
                logger.error("internal error while %s: %s", what, summary(exc))
            if self.reraise:
                raise
