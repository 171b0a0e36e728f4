"""The collector is paused while OTLP exports are in flight (``ingest/_pause.py``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from helioscope._guard import InternalErrorGuard
from helioscope.ingest import LogWriter, _pause
from helioscope.ingest._pause import collector_paused
from helioscope.store import LogRow, Store


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    assert _pause._State.depth == 0 and not _pause._State.paused
    if enabled:
        gc.enable()


def test_paused_while_exports_overlap_and_enabled_after_the_last() -> None:
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    assert not gc.isenabled()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the second export is still being converted
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_failing_export_enables_it_again() -> None:
    with pytest.raises(ValueError), collector_paused():
        raise ValueError
    assert gc.isenabled()


def test_exports_that_keep_overlapping_let_it_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pause, "MAX_PAUSE", 0.01)
    first, second, third = collector_paused(), collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    time.sleep(0.02)
    first.__exit__(None, None, None)
    assert gc.isenabled()  # paused too long: the collection that is due runs now
    third.__enter__()
    assert not gc.isenabled()  # and the next export pauses it again
    second.__exit__(None, None, None)
    third.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_disabled_elsewhere_stays_disabled() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


async def test_a_pause_held_too_long_ends_on_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """A block that holds the pause (a batch retried row by row, a slow store) lets the
    collector run again after ``MAX_PAUSE``, without waiting for the block to end."""
    monkeypatch.setattr(_pause, "MAX_PAUSE", 0.02)
    with collector_paused():
        assert not gc.isenabled()
        await asyncio.sleep(0.1)
        assert gc.isenabled()
        with collector_paused():  # a batch starting now pauses it again, for its own time
            assert not gc.isenabled()
            await asyncio.sleep(0.1)
            assert gc.isenabled()
    assert gc.isenabled()


async def test_a_writer_batch_is_let_go_before_the_collector_resumes(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Resumed while the batch's rows were still referenced, the collector's next (young)
    # collection traversed every one of them, once a batch.
    live_at_resume: list[int] = []
    resume = _pause._resume
    org = str(uuid.uuid4())  # this test's rows only (others may linger in the process)

    def counting() -> None:
        try:
            live = [o for o in gc.get_objects() if type(o) is LogRow]
            live_at_resume.append(sum(row.organization_id == org for row in live))
        finally:
            resume()

    monkeypatch.setattr(_pause, "_resume", counting)
    # Only the batch's end resumes it here: under load (a CI run) a batch outlasted the 1 s
    # bound, whose timer resumed the collector, rightly, while the rows were still in use.
    monkeypatch.setattr(_pause, "MAX_PAUSE", 600.0)
    assert gc.isenabled()
    guard = InternalErrorGuard(reraise=True)
    async with LogWriter(store, journal_dir=tmp_path, guard=guard, linger_seconds=0) as writer:
        for n in range(50):
            writer.enqueue(
                LogRow(
                    request_id=f"r{n}",
                    organization_id=org,
                    request_created_at=dt.datetime.now(dt.UTC),
                    status=200,
                    provider="OPENAI",
                )
            )
        await writer.flush()
    assert live_at_resume and max(live_at_resume) == 0
