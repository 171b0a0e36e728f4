"""What each process on a journal directory tells the others: one small state file a process.

With ``serve --workers`` (or ``--writer-process``) one process stores every worker's journal and
the others only append to theirs; a load balancer's probe reaches any of them. So that each
answers /health/ready with the same totals, every process writes ``<root>/<worker>/state.json``
once a second: its counters (``WriterHealth.as_dict``), and, for the one that tails, the
positions it has stored up to. The file is written in place (``pwrite`` of a padded page, no
rename): once it exists it takes no new blocks, so it still works on the full disk it should
report. A state older than ``STALE_SECONDS`` is a process that has stopped (or hangs): it no
longer counts, and a writer that stopped beating is not running.

The writer-side counters (stored, failing, ...) are the tailing process's; the append-side ones
(``APPEND_SIDE``: what each process could not journal, or journalled without bodies) are summed
over the live processes, and each process also reports its own under ``worker``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

from helioscope.ingest import _journal as journal
from helioscope.ingest._health import WriterHealth

Position = tuple[str, int]
STATE_FILE = "state.json"
# Counted where records are appended (each process its own), not where they are stored.
APPEND_SIDE = ("bodies_dropped", "journal_errors", "journal_failing")
_PAGE = 4096


class SharedState:
    """This process's state file, and the other processes' ones under the same directory."""

    STALE_SECONDS = 5.0

    def __init__(self, root: Path, worker: str, *, tail: bool) -> None:
        self.root = root
        self.worker = worker
        self.tail = tail
        self.path = root / worker / STATE_FILE
        self._fd = -1
        self._size = 0
        self._beaten = 0.0
        self._task: asyncio.Task[None] | None = None

    def beat(self, health: WriterHealth, positions: dict[str, Position] | None) -> None:
        """Write this process's state, at most once a second (the writer: at each pass)."""
        now = time.monotonic()
        if now - self._beaten < 1.0:
            return
        self._beaten = now
        state = {"at": time.time(), "tail": self.tail, "health": health.as_dict()}
        if positions is not None:
            state["positions"] = positions
        data = orjson.dumps(state)
        data += b" " * (-len(data) % _PAGE)  # the same size each time: written over in place
        with contextlib.suppress(OSError):  # a full disk shows in the journal's own counters
            if self._fd < 0:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            os.pwrite(self._fd, data, 0)
            if len(data) != self._size:
                os.ftruncate(self._fd, len(data))
                self._size = len(data)

    @contextlib.asynccontextmanager
    async def beating(
        self, health: WriterHealth, positions: dict[str, Position] | None
    ) -> AsyncIterator[None]:
        """Beat once a second meanwhile: the writer waits on a store call, alive.

        A call the store's own timeouts bound (a locked SQLite waits up to 30 s, a PostgreSQL
        statement as long): beating only from its loop, the writer went stale in the other
        processes' eyes within seconds, and their readiness said it was not running.
        """

        async def beat_on() -> None:
            while True:
                await asyncio.sleep(1.0)
                self.beat(health, positions)

        task = asyncio.create_task(beat_on(), name="helioscope-state-while-storing")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def start(self, health: WriterHealth) -> None:
        """Beat once a second from a task of its own, unless the tailing writer beats itself.

        The writer beats from its loop, so that a writer that hangs or dies stops beating.
        """
        if not self.tail:
            self._task = asyncio.create_task(self._beating(health), name="helioscope-state")

    async def _beating(self, health: WriterHealth) -> None:
        while True:
            self.beat(health, None)
            await asyncio.sleep(1.0)

    async def close(self) -> None:
        """Stop writing; the file is left to go stale (the others then stop counting it)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def others(self) -> list[dict[str, Any]]:
        """The live states of the other processes on this directory."""
        states = []
        now = time.time()
        for worker in journal.workers(self.root):
            if worker == self.worker:
                continue
            state = _read(self.root / worker / STATE_FILE)
            if state is not None and now - float(state.get("at", 0)) < self.STALE_SECONDS:
                states.append(state)
        return states


def _read(path: Path) -> dict[str, Any] | None:
    # Read while being written over (a page, rarely torn): a second read finds it whole.
    for _ in range(2):
        try:
            state = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, orjson.JSONDecodeError):
            continue
        if isinstance(state, dict):
            return state
    return None


async def report(
    shared: SharedState,
    health: WriterHealth,
    *,
    positions: dict[str, Position] | None,
    running: bool,
    stored_positions: Callable[[], Awaitable[dict[str, Position]]],
    key: Callable[[str], str],
    max_bytes: int,
) -> dict[str, Any]:
    """The writer's state as every process on the directory sees it, for /health/ready.

    ``positions`` and ``running`` are this process's writer's (None and False when it does not
    tail); ``stored_positions`` reads them from the store when no live writer shares its own.
    """
    others = await asyncio.to_thread(shared.others)
    writer: dict[str, Any] | None = None
    age = 0.0
    if not shared.tail:
        writers = sorted((s for s in others if s.get("tail")), key=lambda s: float(s["at"]))
        if writers:  # the freshest (two writers on a directory is an error of their own)
            state = writers[-1]
            writer, running = state.get("health", {}), True
            stated = state.get("positions")
            # None: a writer just started (restarted) beats before it has read its positions
            # from the store; the store's are the lag then, not the whole journal (a false
            # alarm of thousands of records behind on an idle server).
            if stated is not None:
                positions = {k: (str(s), int(o)) for k, (s, o) in stated.items()}
            age = round(max(0.0, time.time() - float(state["at"])), 3)
    if positions is None:
        try:
            positions = await stored_positions()
        except Exception:  # the store is down: the whole journal counts as behind
            positions = {}
    known = positions
    records, oldest = await asyncio.to_thread(
        journal.backlog, shared.root, lambda worker: known.get(key(worker))
    )
    size, count = journal.disk_bytes(shared.root)
    # Read after the lag, so that the counters are never older than the positions it is from.
    own = health.as_dict()
    totals = dict(own if writer is None else writer)
    for name in APPEND_SIDE:
        values = [own.get(name, 0)] + [s.get("health", {}).get(name, 0) for s in others]
        totals[name] = any(values) if isinstance(own.get(name), bool) else sum(values)
    return {
        "lag_records": records,
        "lag_seconds": round(max(0.0, time.time() - oldest / 1000), 3) if oldest else 0.0,
        "running": running,
        "journal_bytes": size,
        "journal_segments": count,
        "journal_max_bytes": max_bytes,
        "journal_full": size >= max_bytes or journal.spare_bytes(shared.root) <= 0,  # (no bodies)
        **totals,
        "state_age_seconds": age,
        "processes": 1 + len(others),
    }


def own_counts(worker: str, health: WriterHealth) -> dict[str, Any]:
    """This process's append-side counters, labelled as its own."""
    counts = health.as_dict()
    return {"id": worker, **{name: counts.get(name, 0) for name in APPEND_SIDE}}
