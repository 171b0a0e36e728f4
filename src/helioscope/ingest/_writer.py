"""The log writer: every record goes to the journal first; one task tails it into the store.

``enqueue`` appends the record to this process's journal (one ``write()``; never blocks on the
store, never raises into the proxied call). The tail task reads every worker's journal from the
positions committed in the store, builds rows (parsing bodies and streams, pricing: none of that
runs on the request's task), and stores them in batches with the new positions in the same
transaction (``store.log.write_batch(rows, positions)``). Memory is bounded by bytes read per
batch, not by traffic; the journal's bodies by ``max_bytes`` and by the disk's free space (past
either, records keep every field but their bodies). One process drains a root
(``_journal_locks``). Any failure is logged once per cause and retried with back-off, and shows
in ``health()``. Shutdown waits up to ``drain_seconds`` for the store to catch up; whatever is
left stays in the journal for the next start.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from helioscope._guard import InternalErrorGuard
from helioscope._outage import StoreBackOff
from helioscope._outage import cause as describe
from helioscope.ingest import _journal as journal
from helioscope.ingest import _records as records
from helioscope.ingest._health import WriterHealth, dead_letter, left_behind, replaying
from helioscope.ingest._pause import collector_paused
from helioscope.ingest._room import Room
from helioscope.ingest._shared import SharedState, own_counts, report
from helioscope.ingest._tail_read import read_worker
from helioscope.ingest.capture import CallCapture, Captured, build_log_row, minimal_log_row
from helioscope.store import LogRow, Store, is_transient

Position = tuple[str, int]
_MIB = 1 << 20


class _BatchFailed(Exception):
    """A batch failed for a cause not known to be transient (its ``__cause__``).

    Maybe the writer's (a bug, memory), not a row's: it is written again after the back-off;
    failing again, one row at a time (a refused row to the dead letters).
    """


class LogWriter:
    """Journals log records and stores them; use as ``async with LogWriter(...) as writer``."""

    def __init__(
        self,
        store: Store,
        *,
        journal_dir: Path,
        guard: InternalErrorGuard,
        worker: str = "0",
        tail: bool = True,
        segment_bytes: int = 64 * _MIB,
        fsync_ms: int = 100,
        max_bytes: int = 10 * 1024 * _MIB,
        memory_bytes: int = 64 * _MIB,
        batch_size: int = 2000,
        retry_seconds: float = 1.0,
        max_retry_seconds: float = 30.0,
        drain_seconds: float = 30.0,
        linger_seconds: float = 0.05,
        torn_grace_seconds: float = 2.0,
    ) -> None:
        self.store = store
        self.root = journal_dir
        self.guard = guard
        self.tail = tail
        segment_bytes = journal.segment_size(segment_bytes, max_bytes)  # (an 8th of the bound)
        self.journal = journal.Journal(
            journal_dir, worker, segment_bytes=segment_bytes, fsync_ms=fsync_ms, drains=tail
        )
        self.room = Room(journal_dir, self.journal, max_bytes)
        self.max_bytes = max_bytes
        self.memory_bytes = memory_bytes
        self.batch_size = batch_size
        self.retry_seconds = retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self.drain_seconds = drain_seconds
        self.linger_seconds = linger_seconds
        self.torn_grace_seconds = torn_grace_seconds
        self.health = WriterHealth()
        self.shared = SharedState(journal_dir, worker, tail=tail)  # for the other processes
        # Called with each batch once it is stored (webhooks, online evaluators); each must
        # return at once and schedule its own work.
        self.listeners: list[Callable[[list[LogRow]], None]] = []
        self._positions: dict[str, Position] | None = None  # committed; None until read
        self._committed = asyncio.Event()  # set at each commit, for flush()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._turn, self._id, self._batch_failed = 0, "", False  # (the batch: failed once)

    async def __aenter__(self) -> LogWriter:
        self.journal.open()  # (locked: JournalInUse when another process has it)
        self._id = journal.journal_id(self.root)
        if self.tail:
            self._task = asyncio.create_task(self._run(), name="helioscope-log-writer")
        self.shared.start(self.health)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        died: BaseException | None = None
        if self._task is not None:
            if not self._task.done():
                try:
                    await asyncio.wait_for(self._drain(), timeout=self.drain_seconds)
                except TimeoutError:
                    left_behind(journal.disk_bytes(self.root)[0], self.root)
                except Exception:  # the writer died: reported below
                    pass
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            except Exception as error:  # the writer died (only under tests: see InternalErrorGuard)
                died = error
        await self.shared.close()
        await self.journal.close()
        if died is not None and exc is None:
            raise died

    # The append side: runs on the proxied call's task.

    def enqueue(self, item: LogRow | CallCapture) -> None:
        """Journal a finished call (or a ready row). Never blocks on the store, never raises."""
        self._append([item], together=False)

    def enqueue_rows(self, rows: list[LogRow]) -> None:
        """Journal rows that came together (an OTLP export's spans) as one frame; never raises."""
        if rows:
            self._append(rows, together=True)

    def _append(self, items: Sequence[LogRow | CallCapture], *, together: bool) -> None:
        try:
            if self.room.full(sum(map(records.body_bytes, items))):
                items = [records.without_bodies(self._to_row(item)) for item in items]
                self.health.bodies_dropped += len(items)
            if together:
                parts = records.rows_parts(cast(list[LogRow], items))
            elif isinstance(items[0], CallCapture):
                parts = records.capture_parts(items[0])
            else:
                parts = [records.encode_row(items[0])]
            size = self.journal.append(parts)
        except OSError as exc:  # the disk refused it: the call goes on, the failure is counted
            self.health.journal_failed(exc, len(items))
            return
        if self.health.journal_failing:
            self.health.journal_writable()
        self.room.grew(size)
        self._wake.set()

    def _to_row(self, item: LogRow | Captured) -> LogRow:
        if isinstance(item, LogRow):
            return item
        try:
            return build_log_row(item)
        except Exception as exc:
            # Never lose the record: keep what needs no parsing, and report the bug.
            row = minimal_log_row(item, f"could not parse the call for logging: {exc!r}")
            with self.guard.internal_errors("building a log row"):
                raise
            return row

    # Waiting for the store.

    async def flush(self) -> None:
        """Wait until every record journalled so far by this process is stored."""
        target = self.journal.end()
        worker = self._key(self.journal.worker)
        while True:
            if self._task is not None and self._task.done():
                self._task.result()  # re-raise what killed the writer
                raise RuntimeError("log writer stopped")
            positions = self._positions if self.tail else await self.store.journal_positions()
            if positions is not None and positions.get(worker, ("", 0)) >= target:
                return
            self._committed.clear()
            self._wake.set()
            try:
                await asyncio.wait_for(self._committed.wait(), timeout=0.05)
            except TimeoutError:
                continue

    async def _drain(self) -> None:
        """Wait until every worker's journal is stored (the writer's shutdown)."""
        await self.flush()
        while True:
            assert self._positions is not None
            records, _ = await asyncio.to_thread(self._lag, self._positions)
            if not records:
                return
            self._committed.clear()
            self._wake.set()
            try:
                await asyncio.wait_for(self._committed.wait(), timeout=0.1)
            except TimeoutError:
                continue

    async def flush_within(self, seconds: float) -> None:
        """``flush``, giving up quietly after ``seconds``."""
        try:
            await asyncio.wait_for(self.flush(), timeout=seconds)
        except TimeoutError:
            pass

    async def _stored_all(self) -> bool:
        """Whether every record this process journalled is stored (False: cannot tell now)."""
        try:
            positions = self._positions if self.tail else await self.store.journal_positions()
        except Exception as exc:
            if not is_transient(exc):
                raise
            return False  # (the store is down: nothing is freed by sealing)
        done = None if positions is None else positions.get(self._key(self.journal.worker))
        return done is not None and done >= self.journal.end()

    async def report(self) -> dict[str, Any]:
        """Lag, journal size and counters, for /health/ready: every worker's (``_shared``)."""
        if self.health.journal_failing:  # (a server out of rotation gets no append to tell)
            if await asyncio.to_thread(self.journal.writable):
                self.health.journal_writable()
            elif await self._stored_all():  # the disk full of records stored: free it
                self.room.release()
        return await report(
            self.shared,
            self.health,
            positions=self._positions if self.tail else None,
            running=self._task is not None and not self._task.done(),
            stored_positions=self.store.journal_positions,
            key=self._key,
            max_bytes=self.max_bytes,
        )

    def own_counts(self) -> dict[str, Any]:
        """This process's own append-side counters (the report's are every worker's)."""
        return own_counts(self.journal.worker, self.health)

    def _lag(self, positions: dict[str, Position]) -> tuple[int, int | None]:
        return journal.backlog(self.root, lambda worker: positions.get(self._key(worker)))

    def _key(self, worker: str) -> str:
        # Positions are kept per journal directory (its id) and worker: a store that outlives
        # its journal directory, or serves several, never applies one's positions to another.
        return f"{self._id}:{worker}"

    # The tail.

    async def _run(self) -> None:
        def beat() -> None:  # the back-off beats on: the writer is alive, only waiting
            self.shared.beat(self.health, self._positions)

        delay, back_off = self.retry_seconds, StoreBackOff(self.store.ping, beat=beat)
        while True:
            self.shared.beat(self.health, self._positions)
            try:
                if self._positions is None:
                    self._positions = await self.store.journal_positions()
                    replaying(*await asyncio.to_thread(self._lag, self._positions))
                behind = await self._pass()
                self.health.succeeded()
                delay, back_off.seen_down = self.retry_seconds, False
            except Exception as exc:
                retried = isinstance(exc, _BatchFailed)
                self.health.failed(exc.__cause__ if retried and exc.__cause__ else exc, delay)
                if not (retried or is_transient(exc)):
                    with self.guard.internal_errors("the log writer"):
                        raise
                await back_off.sleep(delay)  # (ends once the store, found down, is back)
                delay = min(delay * 2, self.max_retry_seconds)
                continue
            if not behind:
                self._wake.clear()
                try:  # this process's appends wake it; other workers' are polled
                    await asyncio.wait_for(self._wake.wait(), timeout=0.1)
                except TimeoutError:
                    pass
                if self.linger_seconds:
                    # Let a batch gather: one transaction per interval instead of one per call
                    # keeps the writer's share of the event loop (and the GIL) small.
                    await asyncio.sleep(self.linger_seconds)

    async def _pass(self) -> bool:
        """Store a batch of at most ``batch_size`` frames; True when it was full (go on)."""
        assert self._positions is not None
        payloads: list[bytes] = []
        moved: dict[str, Position] = {}
        finished: list[Path] = []
        # A record is held as its payload, its row, the driver's parameters and the engine's
        # copy, with allocator slack besides: a thirty-second of the bound for payloads keeps
        # a batch well within it whatever the body size (bench/memory.py, 200 KB bodies,
        # 20,000 calls: RSS peaked at 179 MB with an eighth, 156 MB with a thirty-second; at
        # a quarter it had peaked 85 MB higher than at an eighth).
        budget = self.memory_bytes // 32
        frames = 0
        names = journal.workers(self.root)
        # Start at a different worker each pass, so that a busy one cannot starve the others.
        self._turn = (self._turn + 1) % max(1, len(names))
        for worker in names[self._turn :] + names[: self._turn]:
            if frames >= self.batch_size or budget <= 0:
                break
            position, read_payloads, done, spent = await asyncio.to_thread(
                read_worker,
                self.root / worker,
                self._positions.get(self._key(worker)),
                max_count=self.batch_size - frames,
                max_bytes=budget,
                grace_seconds=self.torn_grace_seconds,
                health=self.health,
            )
            payloads += read_payloads
            frames += len(read_payloads)
            budget -= spent
            finished.extend(done)
            if position != self._positions.get(self._key(worker)):
                moved[self._key(worker)] = position
        if not moved:
            return False
        # A full batch (in records or bytes: 200 KB bodies fill one with ~10 records) means the
        # writer is behind: the next pass follows without the linger, and it takes slices of
        # the loop as long as a request's (``otel.trace_rows``), not the half millisecond it
        # takes when idle calls wait on it. Each slice waits a round of the loop: under a load
        # of span batches it otherwise stored nothing until the load stopped (bench/ingest.py).
        behind = frames >= self.batch_size or budget <= 0
        with collector_paused():  # rows, columns, sums: ~2.5 us a record otherwise (_pause)
            rows = await self._build(payloads, 0.005 if behind else 0.0005)
            async with self.shared.beating(self.health, self._positions):
                stored = await self._store(rows, moved)
            self._positions.update(moved)
            self._committed.set()
            for path in finished:
                path.unlink(missing_ok=True)
            self.health.stored += len(stored)
            for listener in self.listeners:
                with self.guard.internal_errors("handing written rows to a listener"):
                    listener(stored)
            full = len(rows) >= self.batch_size  # (an OTLP frame holds many rows)
            del rows, stored  # before the collector resumes: it traversed them all (~2.5%)
        return behind or full

    async def _build(self, payloads: list[bytes], turn: float) -> list[LogRow]:
        """Rows from payloads, each payload let go as soon as its rows are built."""
        rows: list[LogRow] = []
        yielded = time.perf_counter()
        payloads.reverse()
        while payloads:
            rows.extend(map(self._to_row, records.decode_all(payloads.pop())))
            # Building a row parses bodies: yield every ``turn``, so a large batch never
            # holds the event loop (and the calls it relays) for long.
            if time.perf_counter() - yielded > turn:
                await asyncio.sleep(0)
                yielded = time.perf_counter()
        return rows

    async def _store(self, rows: list[LogRow], positions: dict[str, Position]) -> list[LogRow]:
        """Store ``rows`` with ``positions``; rows the store refuses go to the dead letters."""
        try:
            await self.store.log.write_batch(rows, positions=positions)
            self._batch_failed = False
            return rows
        except Exception as exc:
            if is_transient(exc) or not rows:
                raise
            if not self._batch_failed:  # the writer's fault, maybe: the whole batch once more
                self._batch_failed = True
                raise _BatchFailed from exc
        self._batch_failed = False
        # One at a time, so a bad row cannot block the rest; a transient error re-raises and
        # the whole batch is read again (the rows already written are upserted again).
        stored = []
        for row in rows:
            try:
                await self.store.log.write_batch([row])
                stored.append(row)
            except Exception as exc:
                if is_transient(exc):
                    raise
                self.health.dead_lettered += 1  # kept for a human, with the reason; never retried
                kept = dead_letter(self.root, row, describe(exc))
                # One line, no traceback: PostgreSQL's detail ("Failing row contains (...)")
                # would put the row's values (user, properties) in the server's log.
                with self.guard.internal_errors(f"writing a log row (kept in {kept})", describe):
                    raise
        await self.store.log.write_batch([], positions=positions)
        return stored
