"""The background log writer: a bounded queue drained in batches into the store.

The gateway calls ``enqueue`` with the capture of a finished call (never blocks, never raises
into the proxied call). One task takes captures off the queue, builds their rows (parsing bodies
and streams, pricing: none of that runs on the request's task), and writes them in batches of up
to ``batch_size`` rows, one transaction each. When the store is locked or down the batch is
retried with backoff, and new rows keep queueing; past ``queue_size`` they are spooled to disk.
Shutdown waits up to ``drain_seconds`` for the queue to empty and spools whatever is left, so no
record is lost across a restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from helioscope._guard import InternalErrorGuard
from helioscope.ingest._spool import Spool
from helioscope.ingest.capture import CallCapture, build_log_row, minimal_log_row
from helioscope.store import LogRow, Store, is_transient

logger = logging.getLogger("helioscope.ingest")


def _describe(exc: BaseException) -> str:
    # The driver's message only: SQLAlchemy's own text repeats the statement and its parameters,
    # which hold request bodies that have no business in the server's log.
    orig = getattr(exc, "orig", None)
    return f"{type(orig or exc).__name__}: {orig or exc}"


class LogWriter:
    """Batches log rows into the store; use as ``async with LogWriter(...) as writer``."""

    def __init__(
        self,
        store: Store,
        *,
        spool_dir: Path,
        guard: InternalErrorGuard,
        queue_size: int = 10_000,
        batch_size: int = 500,
        retry_seconds: float = 1.0,
        max_retry_seconds: float = 30.0,
        drain_seconds: float = 30.0,
        linger_seconds: float = 0.05,
    ) -> None:
        self.store = store
        self.spool = Spool(spool_dir)
        self.guard = guard
        self.batch_size = batch_size
        self.retry_seconds = retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self.linger_seconds = linger_seconds
        self.drain_seconds = drain_seconds
        self._queue: asyncio.Queue[LogRow | CallCapture] = asyncio.Queue(maxsize=queue_size)
        self._task: asyncio.Task[None] | None = None
        self._pending = 0  # enqueued (or spooled) and not yet stored
        self._idle = asyncio.Event()
        self._idle.set()
        self._in_flight: list[LogRow] = []
        self._in_flight_items: list[LogRow | CallCapture] = []
        self.spooled = 0
        # Called with each batch once it is stored (webhooks, online evaluators); each must
        # return at once and schedule its own work.
        self.listeners: list[Callable[[list[LogRow]], None]] = []
        self._rejected: set[int] = set()  # ids of rows of this batch sent to the dead letters

    async def __aenter__(self) -> LogWriter:
        self._pending += self.spool.pending_rows()  # left over from an earlier run
        if self._pending:
            self._idle.clear()
        self._task = asyncio.create_task(self._run(), name="helioscope-log-writer")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._task is not None
        if not self._task.done():
            try:
                await asyncio.wait_for(self._idle.wait(), timeout=self.drain_seconds)
            except TimeoutError:
                logger.warning("log store still unavailable at shutdown; spooling queued records")
        self._task.cancel()
        died: BaseException | None = None
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        except Exception as error:  # the writer died (only under tests: see InternalErrorGuard)
            died = error
        leftover: list[LogRow] = []
        while not self._queue.empty():
            leftover.append(self._to_row(self._queue.get_nowait()))
        leftover.extend(self._in_flight or [self._to_row(i) for i in self._in_flight_items])
        if leftover:
            self.spool.append(leftover, sync=True)
            logger.warning("spooled %d log records to %s", len(leftover), self.spool.directory)
        self.spool.close_segment()
        if died is not None and exc is None:
            raise died

    def enqueue(self, item: LogRow | CallCapture) -> None:
        """Hand a finished call (or a ready row) to the writer.

        Never blocks; past ``queue_size`` the row is built at once and spooled to disk.
        """
        self._pending += 1
        self._idle.clear()
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.spooled += self.spool.append([self._to_row(item)])

    async def put(self, item: LogRow | CallCapture, *, wait: float = 5.0) -> None:
        """Hand over a row, waiting up to ``wait`` seconds for room in the queue.

        For callers that may be slowed down (the async log API): back-pressure makes a client
        that logs faster than the store can write slow down, instead of every row taking the
        longer road through the disk spool. After ``wait`` the row is spooled; it is never lost.
        """
        if not self._queue.full():
            self.enqueue(item)
            return
        self._pending += 1
        self._idle.clear()
        try:
            await asyncio.wait_for(self._queue.put(item), timeout=wait)
        except TimeoutError:
            self.spooled += self.spool.append([self._to_row(item)])

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

    async def flush(self) -> None:
        """Wait until every row enqueued so far is in the store (tests, benchmarks, CLI)."""
        while not self._idle.is_set():
            if self._task is not None and self._task.done():
                self._task.result()  # re-raise what killed the writer
                raise RuntimeError("log writer stopped")
            try:
                await asyncio.wait_for(self._idle.wait(), timeout=0.5)
            except TimeoutError:
                continue

    async def flush_within(self, seconds: float) -> None:
        """``flush``, giving up quietly after ``seconds``."""
        try:
            await asyncio.wait_for(self.flush(), timeout=seconds)
        except TimeoutError:
            pass

    @property
    def pending(self) -> int:
        """Rows accepted and not yet stored."""
        return self._pending

    async def _run(self) -> None:
        while True:
            if self._queue.empty():
                claimed = self.spool.claim_oldest()
                if claimed is not None:
                    path, rows = claimed
                    for start in range(0, len(rows), self.batch_size):
                        await self._write(rows[start : start + self.batch_size])
                    path.unlink()
                    continue
            first = await self._queue.get()
            if self._queue.qsize() + 1 < self.batch_size and self.linger_seconds:
                # Let a batch gather: one transaction per interval instead of one per call
                # keeps the writer's share of the event loop (and the GIL) small.
                await asyncio.sleep(self.linger_seconds)
            items = [first]
            while len(items) < self.batch_size and not self._queue.empty():
                items.append(self._queue.get_nowait())
            self._in_flight_items = items
            batch = []
            yielded = time.perf_counter()
            for item in items:
                batch.append(self._to_row(item))
                # Building a row parses bodies: yield every half millisecond, so a large batch
                # never holds the event loop (and the calls it relays) for long, yet the writer
                # is not starved by yielding after every row under load. (At 2 ms, the
                # gateway bench's p99 added latency was 5-6 ms; at 0.5 ms, 3-3.5 ms.)
                if time.perf_counter() - yielded > 0.0005:
                    await asyncio.sleep(0)
                    yielded = time.perf_counter()
            await self._write(batch)

    async def _write(self, batch: list[LogRow]) -> None:
        self._in_flight = batch
        self._rejected.clear()
        delay = self.retry_seconds
        remaining = batch
        while remaining:
            try:
                await self.store.log.write_batch(remaining)
                remaining = []
            except Exception as exc:
                if is_transient(exc):
                    logger.warning(
                        "log store unavailable (%s); retrying in %.1fs", _describe(exc), delay
                    )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.max_retry_seconds)
                else:
                    remaining = await self._isolate_bad_rows(remaining)
        self._in_flight = []
        self._in_flight_items = []
        stored = [r for r in batch if id(r) not in self._rejected] if self._rejected else batch
        self._rejected.clear()
        for listener in self.listeners:
            with self.guard.internal_errors("handing written rows to a listener"):
                listener(stored)
        self._pending = max(0, self._pending - len(batch))
        if self._pending == 0:
            self._idle.set()

    async def _isolate_bad_rows(self, batch: list[LogRow]) -> list[LogRow]:
        """Write rows one at a time so a bad row cannot block the rest; return unwritten rows.

        A row the store rejects for its content goes to the dead-letter file. If the store
        becomes unavailable part way, the rows not yet written are returned for a retry.
        """
        for index, row in enumerate(batch):
            try:
                await self.store.log.write_batch([row])
            except Exception as exc:
                if is_transient(exc):
                    return batch[index:]
                self.spool.dead_letter(row, _describe(exc))
                self._rejected.add(id(row))
                with self.guard.internal_errors("writing a log row"):
                    raise
        return []
