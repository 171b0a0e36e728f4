"""Every process on a journal directory reports the same writer state (``serve --workers``): the
writer's counters and lag from the writer's state file, the append-side counters summed over
the live processes, and each process's own counts apart."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from helioscope.ingest import LogWriter
from helioscope.ingest._health import WriterHealth
from helioscope.ingest._shared import SharedState
from helioscope.store import Store, keys
from tests.ingest.test_writer import row, writer_for


async def _settled(writers: list[LogWriter], stored: int) -> list[dict[str, Any]]:
    """Every writer's report, once each says ``stored`` records are stored and none wait."""
    deadline = time.monotonic() + 10
    while True:
        reports = [await w.report() for w in writers]
        if all(r["stored"] == stored and r["lag_records"] == 0 for r in reports):
            return reports
        assert time.monotonic() < deadline, reports
        await asyncio.sleep(0.1)


async def test_every_worker_reports_the_writers_totals_and_its_own_counts(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = (await store.write(keys.get_or_create_org, "shared")).id
    root = tmp_path / "journal"
    async with (
        writer_for(store, root, worker="0") as tailing,
        # A full journal (max_bytes=1): worker 1 journals its records without their bodies.
        writer_for(store, root, worker="1", tail=False, max_bytes=1) as journalling,
    ):
        for _ in range(3):
            tailing.enqueue(row(org, request_body='{"messages": []}'))
        for _ in range(4):
            journalling.enqueue(row(org, request_body='{"messages": []}'))
        first, second = await _settled([tailing, journalling], 7)

        # The store down (the tailing writer has its positions): the journalling worker's
        # lag comes from the writer's state, not from the whole journal.
        async def down() -> dict[str, tuple[str, int]]:
            raise ConnectionError("store down")

        monkeypatch.setattr(store, "journal_positions", down)
        second = await journalling.report()
    for name in ("stored", "failing", "lag_records", "dead_lettered", "journal_bytes"):
        assert first[name] == second[name], name
    # Bodies dropped and journal errors happen where records are appended: summed.
    assert first["bodies_dropped"] == second["bodies_dropped"] == 4
    assert first["processes"] == second["processes"] == 2
    assert first["running"] and second["running"]
    assert tailing.own_counts() == {
        "id": "0",
        "bodies_dropped": 0,
        "journal_errors": 0,
        "journal_failing": False,
    }
    assert journalling.own_counts()["bodies_dropped"] == 4


async def test_a_writer_that_has_not_read_its_positions_yet_reports_the_stores(
    store: Store, tmp_path: Path
) -> None:
    # A writer restarted by the supervisor beats before it has read its positions from the
    # store: the others' lag must come from the store, not count the whole journal as behind.
    org = (await store.write(keys.get_or_create_org, "restarted")).id
    root = tmp_path / "journal"
    async with writer_for(store, root, worker="1", tail=False) as journalling:
        async with writer_for(store, root, worker="0") as tailing:
            for _ in range(3):
                tailing.enqueue(row(org))
            for _ in range(4):
                journalling.enqueue(row(org))
            await _settled([tailing, journalling], 7)
        SharedState(root, "0", tail=True).beat(WriterHealth(), None)  # (its first beat)
        report = await journalling.report()
    assert report["running"] and report["lag_records"] == 0, report


async def test_a_stopped_processs_counts_no_longer_count(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "journal"
    async with writer_for(store, root, worker="0") as tailing:
        async with writer_for(store, root, worker="1", tail=False, max_bytes=1) as journalling:
            org = (await store.write(keys.get_or_create_org, "gone")).id
            journalling.enqueue(row(org, request_body='{"messages": []}'))
            # Its next beat carries the count: within 1.2 s (it beats each second).
            deadline = time.monotonic() + 1.2
            while (await tailing.report())["bodies_dropped"] != 1:
                assert time.monotonic() < deadline, await tailing.report()
                await asyncio.sleep(0.05)
        state = journalling.shared.path
        old = orjson.loads(state.read_bytes())
        old["at"] -= journalling.shared.STALE_SECONDS
        state.write_bytes(orjson.dumps(old))
        report = await tailing.report()
    assert report["bodies_dropped"] == 0 and report["processes"] == 1


async def test_the_state_file_is_written_over_in_place(store: Store, tmp_path: Path) -> None:
    """Once written it takes no new blocks (a full disk must not stop it): the same inode,
    padded to the same size, whatever the counters."""
    root = tmp_path / "journal"
    async with writer_for(store, root, worker="1", tail=False) as journalling:
        path = journalling.shared.path
        await asyncio.sleep(0.1)
        before = path.stat()
        journalling.health.bodies_dropped = 10**12
        await asyncio.sleep(1.1)
        after = path.stat()
        assert orjson.loads(path.read_bytes())["health"]["bodies_dropped"] == 10**12
    assert (before.st_ino, before.st_size) == (after.st_ino, after.st_size)
