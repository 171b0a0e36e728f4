"""One store outage, logged once when it starts and once when it ends.

The key cache, the REST API and the readiness probe all notice an unreachable store; without
this, each call during an outage wrote its own warning (a 30 s PostgreSQL outage once wrote
3,887 "could not re-check an API key" lines).

With a ``probe`` (one cheap round trip to the store), an outage's end is found by probing
while it lasts: its duration is then the store's, not the time until the next call happened to
need the store (a 13 s outage was once logged as "reachable again after 22.5s").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from helioscope.store import UNAVAILABLE_ERRORS, Store, is_refused, is_transient

logger = logging.getLogger("helioscope")

Probe = Callable[[], Awaitable[None]]
T = TypeVar("T")


def cause(exc: BaseException) -> str:
    """The error's type and the driver's message (never SQLAlchemy's statement and values)."""
    orig = getattr(exc, "orig", None)
    return f"{type(orig or exc).__name__}: {orig or exc}"


def store_failure(exc: BaseException) -> bool:
    """True when ``exc`` is the store's (unreachable, hung, refusing us), not a bug of ours."""
    return isinstance(exc, UNAVAILABLE_ERRORS) or is_transient(exc)


def _waitable(exc: BaseException) -> bool:
    # A refused login, a read-only user or a missing database is no outage: waiting would
    # only hide it (a ClickHouse user without the right to write was waited for forever).
    return is_transient(exc) and not is_refused(exc)


class Outage:
    """Whether the store is known to be unreachable, and since when."""

    def __init__(self, probe: Probe | None = None, *, probe_seconds: float = 0.5) -> None:
        self.since: float | None = None
        self.cause: str | None = None
        self.noticed = 0  # failures seen during the current outage
        # Whether any call ever reached the store in this process: until one has, no key can
        # be checked and the gateway can only refuse calls (readiness says so: api/health).
        self.reached = False
        self._probe = probe
        self.probe_seconds = probe_seconds
        self._watching: asyncio.Task[None] | None = None

    def down(self, where: str, exc: BaseException) -> None:
        """A call found the store unreachable (logged only if it was up until now)."""
        self.noticed += 1
        if self.since is not None:
            return
        self.since = time.monotonic()
        self.cause = cause(exc)
        logger.warning(
            "store unreachable (%s, noticed by %s); serving what can be", self.cause, where
        )
        if self._probe is not None and self._watching is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop: the next call that reaches the store ends it
                return
            self._watching = loop.create_task(self._watch(self._probe))

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

    async def _watch(self, probe: Probe) -> None:
        try:
            while self.since is not None:
                await asyncio.sleep(self.probe_seconds)
                try:
                    await probe()
                except Exception:  # still down (a probe is bounded by the store's timeouts)
                    continue
                self.up()
        finally:
            self._watching = None

    async def close(self) -> None:
        """Stop probing (at shutdown)."""
        if self._watching is not None:
            self._watching.cancel()
            try:
                await self._watching
            except asyncio.CancelledError:
                pass


async def wait_until_reachable(
    probe: Probe,
    where: str,
    say: Callable[[str], None],
    *,
    first_seconds: float = 0.5,
    max_seconds: float = 10.0,
) -> None:
    """Return once ``probe`` reaches the store, retrying with a bounded back-off meanwhile.

    A server started during an outage then comes up when the store does, rather than exiting
    (under ``--workers`` its supervisor restarted it every few seconds, each time with a long
    traceback). ``say`` is told once that it waits, with the cause, and once that the store is
    back; an error that waiting cannot mend (a wrong password, a missing database) is raised.
    """
    delay = first_seconds
    since: float | None = None
    while True:
        try:
            await probe()
        except Exception as exc:
            if not _waitable(exc):
                raise
            if since is None:
                since = time.monotonic()
                say(
                    f"store {where} unreachable ({cause(exc)}); waiting for it "
                    f"(retrying every {max_seconds:g} s at most)"
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_seconds)
            continue
        if since is not None:
            say(f"store {where} reachable after {time.monotonic() - since:.1f}s")
        return


async def through_outages(
    store: Store, steps: Callable[[], Awaitable[T]], say: Callable[[str], None]
) -> T:
    """``steps()`` once the store is reachable, run again each time an outage interrupts them.

    For a server's startup: an outage (or a dropped connection) that began after its first
    probe failed its migration or bootstrap with a long traceback and exit status 3, and under
    ``--workers`` the supervisor restarted the worker, each time with one. It now waits, saying
    so once as ``wait_until_reachable`` does (or, when the store ended only the connection,
    that it tries again). ``steps`` must be safe to run again: each write one transaction, or
    idempotent. An error that is no outage is raised as it was: one that waiting cannot mend
    (a wrong password), or a failing statement on a connection that the store kept and while
    it answers (a bug of ours).

    Each part of the store that can be down is waited for (``Store.probes``): PostgreSQL, and
    a ClickHouse server that keeps the log (one down at start crashed the server). A SQLite
    file and an embedded chdb are never down (and probing a SQLite file creates it before
    ``migrate`` made its directory): with neither of the others, the steps run once.
    """
    parts = store.probes()
    if not parts:
        return await steps()
    pause = 0.5  # between attempts the store answered but cut short: doubled up to 10 s
    while True:
        for where, probe in parts:
            await wait_until_reachable(probe, where, say)
        try:
            return await steps()
        except Exception as exc:
            if not _waitable(exc):
                raise
            if not await _all_reachable(parts):
                continue  # down: waited for above, saying so once (or raised, if not waitable)
            if not _lost(exc):
                raise  # the store answers, on the connection that failed: not an outage
            say(f"store {store.part_of(exc)}: {cause(exc)}; trying again in {pause:g} s")
            # (Not at once: a store, or a proxy before it, that cuts every attempt short would
            # be asked again and again, and a line written for each.)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 10.0)


async def _all_reachable(parts: list[tuple[str, Probe]]) -> bool:
    for _, probe in parts:
        try:
            await probe()
        except Exception:
            return False
    return True


def _lost(exc: BaseException) -> bool:
    # The call's connection was closed under it (the store restarted, or ended that backend:
    # SQLAlchemy then invalidates the connection), or it never had one (refused, timed out).
    return not isinstance(exc, DBAPIError) or exc.connection_invalidated


class StoreBackOff:
    """A back-off between retries that ends within ``every`` seconds of the store's return.

    The log writer doubled its wait up to 30 s, and slept on after the store was back (a 13 s
    outage was caught up at 15.7 s, a 20 s one at ~32 s). Here it probes the store (one round
    trip) every ``every`` seconds while it waits; once a probe in this failure streak has found
    the store down, the first that reaches it ends the wait. A store that answers every probe
    (its reads work, its writes fail) is not "back": the whole delay is slept, so the retries
    keep backing off.
    """

    def __init__(
        self, probe: Probe, *, every: float = 1.0, beat: Callable[[], None] | None = None
    ) -> None:
        self._probe = probe
        self.every = every
        self._beat = beat  # called every ``every`` seconds while it waits
        self.seen_down = False  # reset by the caller when a retry succeeds

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or until the store, seen down, answers a probe again."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(self.every, left))
            if self._beat is not None:
                self._beat()
            if time.monotonic() >= deadline:
                return
            try:
                await self._probe()
            except Exception:
                self.seen_down = True
                continue
            if self.seen_down:
                return
