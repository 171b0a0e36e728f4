"""The log writer: every record goes to the journal first; one task tails it into the store.

``enqueue`` appends the record to this process's journal (one ``write()``; never blocks on the
store, never raises into the proxied call). The tail task reads every worker's journal from the
positions committed in the store, builds rows (parsing bodies and streams, pricing: none of that
runs on the request's task), and stores them in batches with the new positions in the same
transaction (``store.log.write_batch(rows, positions)``). Memory is bounded by bytes read per
batch, not by traffic; the disk by ``max_bytes`` (past it, records keep every field but their
bodies). Any failure is logged once per cause and retried with back-off, and shows in
``health()``. Shutdown waits up to ``drain_seconds`` for the store to catch up; whatever is left
stays in the journal for the next start.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from helioscope._guard import InternalErrorGuard
from helioscope.ingest import _journal as journal
from helioscope.ingest import _records as records
from helioscope.ingest._health import Heartbeat, WriterHealth, dead_letter, describe
from helioscope.ingest._reader import JournalReader, Position
from helioscope.ingest.capture import CallCapture, build_log_row, minimal_log_row
from helioscope.store import LogRow, Store, is_transient

logger = logging.getLogger("helioscope.ingest")

_MIB = 1 << 20


class _BatchFailed(Exception):
    """A batch failed for a cause not known to be transient (its ``__cause__``).

    Maybe the writer's (a bug, memory), not a row's: it is written again after the back-off;
    failing again, one row at a time (a refused row to the dead letters).
    """


@dataclass(frozen=True, slots=True)
class _Batch:
    """Rows built from the journal, the positions past them, and the segments read through."""

    rows: list[LogRow]
    moved: dict[str, Position]
    finished: list[Path]
    frames: int
    full: bool  # as many records or bytes as a batch takes: the writer is behind


async def _cancelled(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` (if any) and wait for it to end, whatever it ends with."""
    if task is not None:
        task.cancel()
        try:
            await task
        except BaseException:  # its result is thrown away, error or not
            pass


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
        self.journal = journal.Journal(
            journal_dir, worker, segment_bytes=segment_bytes, fsync_ms=fsync_ms
        )
        self.max_bytes = max_bytes
        self.memory_bytes = memory_bytes
        self.batch_size = batch_size
        self.retry_seconds = retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self.drain_seconds = drain_seconds
        self.linger_seconds = linger_seconds
        self.health = WriterHealth()
        self.heartbeat = Heartbeat(journal_dir)
        # Called with each batch once it is stored (webhooks, online evaluators); each must
        # return at once and schedule its own work.
        self.listeners: list[Callable[[list[LogRow]], None]] = []
        self._positions: dict[str, Position] | None = None  # committed; None until read
        self._committed = asyncio.Event()  # set at each commit, for flush()
        self._wake = asyncio.Event()
        self._disk_bytes = 0
        self._disk_checked = 0.0
        self._task: asyncio.Task[None] | None = None
        self._journal_error_logged = self._batch_failed = False  # (the batch: failed once)
        self._reader = JournalReader(journal_dir, self.health, torn_grace_seconds)

    async def __aenter__(self) -> LogWriter:
        self.journal.open()
        self._reader.open()
        self._disk_bytes = journal.disk_bytes(self.root)[0]
        if self.tail:
            self._task = asyncio.create_task(self._run(), name="helioscope-log-writer")
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
                    logger.warning("log store still behind at shutdown; records stay journalled")
                except Exception:  # the writer died: reported below
                    pass
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            except Exception as error:  # the writer died (only under tests: see InternalErrorGuard)
                died = error
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
            if self._journal_full(sum(map(records.body_bytes, items))):
                items = [records.without_bodies(self._to_row(item)) for item in items]
                self.health.bodies_dropped += len(items)
            if together:
                parts = [records.encode_rows(cast(list[LogRow], items))]
            elif isinstance(items[0], CallCapture):
                parts = records.capture_parts(items[0])
            else:
                parts = [records.encode_row(items[0])]
            size = self.journal.append(parts)
        except OSError as exc:  # the disk refused it: the call goes on, the failure is counted
            self.health.journal_errors += 1
            if not self._journal_error_logged:
                self._journal_error_logged = True
                lost = f"{len(items)} log records" if together else "a log record"
                logger.error("could not journal %s (%s); lost", lost, describe(exc))
            return
        self._disk_bytes += size
        self._wake.set()

    def _journal_full(self, size: int) -> bool:
        """True when ``size`` more bytes of bodies would take the journal past ``max_bytes``."""
        now = time.monotonic()
        if now - self._disk_checked > 1.0:  # other workers append, the writer deletes
            self._disk_checked = now
            self._disk_bytes = journal.disk_bytes(self.root)[0]
        return self._disk_bytes + size > self.max_bytes

    def _to_row(self, item: LogRow | CallCapture) -> LogRow:
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
        worker = self._reader.key(self.journal.worker)
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

    async def report(self) -> dict[str, Any]:
        """Lag, journal size and counters, for /health/ready."""
        positions = self._positions
        if positions is None or not self.tail:
            try:
                positions = await self.store.journal_positions()
            except Exception:
                positions = {}
        records, oldest = await asyncio.to_thread(self._lag, positions)
        size, count = journal.disk_bytes(self.root)
        return {
            "lag_records": records,
            "lag_seconds": round(max(0.0, time.time() - oldest / 1000), 3) if oldest else 0.0,
            # Another process's writer, when this one does not tail: alive by its heartbeat.
            "running": (
                self._task is not None and not self._task.done()
                if self.tail
                else self.heartbeat.alive()
            ),
            "journal_bytes": size,
            "journal_segments": count,
            "journal_max_bytes": self.max_bytes,
            "journal_full": size >= self.max_bytes,
            **self.health.as_dict(),
        }

    def _lag(self, positions: dict[str, Position]) -> tuple[int, int | None]:
        return journal.backlog(self.root, lambda worker: positions.get(self._reader.key(worker)))

    # The tail.

    async def _run(self) -> None:
        delay = self.retry_seconds
        # The next batch, read and built while this one is stored (when the writer is behind).
        ahead: asyncio.Task[_Batch | None] | None = None
        try:
            while True:
                self.heartbeat.beat()
                try:
                    if self._positions is None:
                        self._positions = await self.store.journal_positions()
                    batch = await (ahead or self._gather(self._positions))
                    ahead = None
                    if batch is not None and batch.full:
                        # Behind: storing is mostly the engine's work (chdb's, or a server's),
                        # off this thread and the GIL; building the next batch meanwhile, from
                        # where this one ends, keeps both busy. A failure throws it away.
                        cursor = {**self._positions, **batch.moved}
                        ahead = asyncio.create_task(self._gather(cursor))
                    stored = 0 if batch is None else await self._commit(batch)
                    self.health.succeeded()
                    delay = self.retry_seconds
                except Exception as exc:
                    await _cancelled(ahead)
                    ahead = None
                    retried = isinstance(exc, _BatchFailed)
                    self.health.failed(exc.__cause__ if retried and exc.__cause__ else exc, delay)
                    if not (retried or is_transient(exc)):
                        with self.guard.internal_errors("the log writer"):
                            raise
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.max_retry_seconds)
                    continue
                if stored < self.batch_size:
                    self._wake.clear()
                    try:  # this process's appends wake it; other workers' are polled
                        await asyncio.wait_for(self._wake.wait(), timeout=0.1)
                    except TimeoutError:
                        pass
                    if self.linger_seconds:
                        # Let a batch gather: one transaction per interval instead of one per
                        # call keeps the writer's share of the event loop (and the GIL) small.
                        await asyncio.sleep(self.linger_seconds)
        finally:
            await _cancelled(ahead)

    async def _gather(self, cursor: dict[str, Position]) -> _Batch | None:
        """A batch of at most ``batch_size`` frames from ``cursor``, read and built.

        None if there is nothing new.
        """
        # A record is held as its payload, its row, the driver's parameters and the engine's
        # copy, with allocator slack besides: a thirty-second of the bound for payloads keeps
        # a batch well within it whatever the body size (bench/memory.py, 200 KB bodies,
        # 20,000 calls: RSS peaked at 179 MB with an eighth, 156 MB with a thirty-second; at
        # a quarter it had peaked 85 MB higher than at an eighth). At most two batches are
        # held at once: one being stored, the next being built.
        read = await asyncio.to_thread(
            self._reader.read, cursor, self.batch_size, self.memory_bytes // 32
        )
        if not read.moved:
            return None
        # A full batch (in records or bytes) means the writer is behind: it then takes slices
        # of the loop as long as a request's (``otel.trace_rows``), not the half millisecond
        # it takes when idle calls wait on it. Each slice waits a round of the loop: under a
        # load of span batches it otherwise stored nothing until the load stopped
        # (bench/ingest.py --otlp).
        rows = await self._build(read.payloads, 0.005 if read.full else 0.0005)
        return _Batch(rows, read.moved, read.finished, len(read.payloads), read.full)

    async def _commit(self, batch: _Batch) -> int:
        """Store a batch and move the committed positions past it; the records consumed."""
        assert self._positions is not None
        stored = await self._store(batch.rows, batch.moved)
        self._positions.update(batch.moved)
        self._committed.set()
        for path in batch.finished:
            path.unlink(missing_ok=True)
        self.health.stored += len(stored)
        for listener in self.listeners:
            with self.guard.internal_errors("handing written rows to a listener"):
                listener(stored)
        return max(batch.frames, len(batch.rows), 1)

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
                self._dead_letter(row, describe(exc))
                with self.guard.internal_errors("writing a log row"):
                    raise
        await self.store.log.write_batch([], positions=positions)
        return stored

    def _dead_letter(self, row: LogRow, reason: str) -> None:
        """Keep a row the store refused, with the reason, for a human (never retried)."""
        self.health.dead_lettered += 1
        dead_letter(self.root, row, reason)
