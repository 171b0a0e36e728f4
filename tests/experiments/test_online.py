"""The writer's hook for online evaluators: what a stored batch costs the event loop."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import cast

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
