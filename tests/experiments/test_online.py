"""The writer's hook for online evaluators: what a stored batch costs the event loop."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from pathlib import Path
from typing import cast

import pytest

from helioscope.experiments._evaluate import Evaluations
from helioscope.experiments._online import OnlineEvaluators
from helioscope.store import LogRow, Store


def _row(org: str, n: int) -> LogRow:
    return LogRow(f"r{n}", org, dt.datetime(2026, 12, 7, tzinfo=dt.UTC), 200, "OPENAI")


async def test_rows_of_an_organization_known_to_have_no_online_evaluator_are_passed_by() -> None:
    online = OnlineEvaluators(
        cast(Store, object()), cast(Evaluations, object()), asyncio.Semaphore(1)
    )
    online._configs["idle"] = (time.monotonic(), [])
    online.observe([_row("idle", n) for n in range(3)])
    assert not online.tasks  # nothing to consider: no task, no row kept
    online._configs["idle"] = (time.monotonic() - 60, [])  # stale: read again, so considered
    online.observe([_row("idle", 1)])
    online._configs["busy"] = (time.monotonic(), [{"config": {}}])
    online.observe([_row("busy", 2)])
    assert len(online.tasks) == 2
    for task in list(online.tasks):
        task.cancel()
    await asyncio.gather(*online.tasks, return_exceptions=True)


async def test_a_store_that_does_not_answer_leaves_the_calls_unevaluated_not_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A store whose SQLite file cannot be opened: every read fails as an outage would.
    store = Store.open(f"sqlite:///{tmp_path / 'missing' / 'helioscope.db'}")
    before = set(threading.enumerate())
    online = OnlineEvaluators(store, cast(Evaluations, object()), asyncio.Semaphore(1))
    online.observe([_row("org-1", n) for n in range(3)])
    (task,) = online.tasks
    await task  # finished without an exception
    assert any("3 stored calls not evaluated" in r.getMessage() for r in caplog.records)
    await store.close()
    # After a failed connect aiosqlite stops the connection's thread without waiting for it:
    # one still stopping once this test's loop has closed raised "Event loop is closed" in
    # its thread, failing whichever test ran next (a CI run under load).
    for thread in set(threading.enumerate()) - before:
        if "_connection_worker_thread" in thread.name:
            await asyncio.to_thread(thread.join, 10)
