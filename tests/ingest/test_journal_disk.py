"""A nearly full disk keeps every record's metadata; a full one loses records, says so once per
episode (and when it ends), shows in health, and leaves the journal well-formed."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from helioscope.ingest import _journal
from helioscope.ingest._journal import read_frames
from helioscope.ingest._records import BODIES_DROPPED_PROPERTY
from helioscope.store import Store, keys
from helioscope.store.log import requests
from tests.ingest.test_writer import (
    _caught_up,
    _unreachable_url,
    count_rows,
    row,
    segment_files,
    writer_for,
)

_MIB = 1 << 20


def test_the_disk_reserve_is_64_mib_or_1_percent_up_to_1_gib() -> None:
    assert _journal.reserve_bytes(1024 * _MIB) == 64 * _MIB
    assert _journal.reserve_bytes(20 * 1024 * _MIB) == 20 * 1024 * _MIB // 100
    assert _journal.reserve_bytes(10 * 1024 * 1024 * _MIB) == 1024 * _MIB


def test_the_spare_bytes_are_what_statvfs_says_is_free_past_the_reserve(tmp_path: Path) -> None:
    fs = os.statvfs(tmp_path)
    reserve = _journal.reserve_bytes(fs.f_blocks * fs.f_frsize)
    spare = _journal.spare_bytes(tmp_path)
    assert abs(spare + reserve - fs.f_bavail * fs.f_frsize) < 64 * _MIB  # (others write too)


async def test_a_disk_short_of_its_reserve_keeps_records_without_their_bodies(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = (await store.write(keys.get_or_create_org, "acme")).id
    spare = {"bytes": 1 << 30}
    monkeypatch.setattr(_journal, "spare_bytes", lambda _: spare["bytes"])
    journal_dir = tmp_path / "journal"
    async with writer_for(store, journal_dir) as writer:
        roomy = row(org, request_body="x" * 2000)
        writer.enqueue(roomy)
        spare["bytes"] = -1  # into the reserve, says statvfs at the next look (once a second)
        writer.room.checked = -float("inf")  # (that look is now)
        cramped = row(org, request_body="x" * 2000, response_body="y")
        writer.enqueue(cramped)
        await writer.flush()
        report = await writer.report()
        # The segment that held the first record was sealed, and deleted once stored.
        assert [p.name for p in segment_files(journal_dir)] == ["000000000002.journal"]
    log = store.log.org(org)
    kept = await log.read(requests.get_request, roomy.request_id)
    dropped = await log.read(requests.get_request, cramped.request_id)
    assert kept is not None and kept["request_body"] == "x" * 2000
    assert dropped is not None and dropped["request_body"] is None
    assert dropped["response_body"] is None and dropped["status"] == 200
    assert dropped["properties"] == {BODIES_DROPPED_PROPERTY: "journal full"}
    assert report["bodies_dropped"] == 1 and report["journal_full"] is True


class _FullDisk:
    """``os.writev`` on one descriptor writes half the frame, then fails as a full disk does;
    so does ``os.open`` of readiness's probe (``Journal.writable``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.fd = -1  # the journal's segment, once known
        self.full = False
        writev, write, open_ = os.writev, os.write, os.open

        def cut_short(fd: int, buffers: Sequence[bytes]) -> int:
            if not (self.full and fd == self.fd):
                return writev(fd, buffers)
            data = b"".join(buffers)
            write(fd, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def probe(path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
            if self.full and Path(path).name == "probe":
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return open_(path, flags, mode, **kw)

        monkeypatch.setattr(os, "writev", cut_short)
        monkeypatch.setattr(os, "open", probe)


async def test_a_full_disk_is_logged_once_an_episode_and_leaves_no_torn_frame(
    store: Store,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    org = (await store.write(keys.get_or_create_org, "acme")).id
    journal_dir = tmp_path / "journal"
    disk = _FullDisk(monkeypatch)
    down = Store.open(_unreachable_url(database_url, tmp_path))  # (what is read is the restart)
    caplog.set_level(logging.WARNING, "helioscope.ingest")
    async with writer_for(down, journal_dir, drain_seconds=0.1) as writer:
        disk.fd = writer.journal._fd
        writer.enqueue(row(org))
        disk.full = True
        writer.enqueue(row(org))
        writer.enqueue_rows([row(org), row(org)])
        failing = await writer.report()  # (its probe fails too)
        disk.full = False
        writer.enqueue(row(org))
        recovered = await writer.report()
        disk.full = True
        writer.enqueue(row(org))  # a second episode, the segment's last append
        again = await writer.report()
        disk.full = False  # room again, and no call comes: readiness's probe tells
        probed = await writer.report()
    await down.close()
    assert failing["journal_failing"] is True and failing["journal_errors"] == 2
    assert recovered["journal_failing"] is False and recovered["journal_errors"] == 2
    assert again["journal_failing"] is True and probed["journal_failing"] is False
    said = [r.getMessage() for r in caplog.records]
    assert [m.split(" (")[0] for m in said if m.startswith("could not journal")] == [
        "could not journal a log record",
        "could not journal a log record",
    ]
    assert [m for m in said if m.startswith("journal writable")] == [
        "journal writable again; 3 log records lost meanwhile",
        "journal writable again; 1 log records lost meanwhile",
    ]
    (segment,) = segment_files(journal_dir)
    whole = read_frames(segment, 0, max_bytes=1 << 30, max_count=100)
    assert len(whole.payloads) == 2 and not whole.bad and whole.offset == segment.stat().st_size
    async with writer_for(store, journal_dir) as writer:
        report = await _caught_up(writer)
    assert report["torn_frames_skipped"] == 0 and report["corrupt_frames_skipped"] == 0
    assert await count_rows(store, org) == 2


async def test_a_disk_full_of_stored_records_is_freed_without_a_call(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal filled the disk during an outage, and the store then took every record: they
    stayed in the open segment (deleted only once sealed), only an append sealed it, and none
    came, since readiness answered 503 (a kill -9 drill on a 400 KB tmpfs: 503 for good)."""
    org = (await store.write(keys.get_or_create_org, "acme")).id
    journal_dir = tmp_path / "journal"
    disk = _FullDisk(monkeypatch)
    async with writer_for(store, journal_dir) as writer:
        disk.fd = writer.journal._fd
        for _ in range(3):
            writer.enqueue(row(org))
        await writer.flush()  # stored, and still on the disk
        disk.full = True
        writer.enqueue(row(org))  # lost: the disk is full
        disk.full = False
        probe = writer.journal.writable  # room once no segment holds a record any more

        def room() -> bool:
            return not any(p.stat().st_size for p in segment_files(journal_dir)) and probe()

        monkeypatch.setattr(writer.journal, "writable", room)
        deadline = time.monotonic() + 5
        while (report := await writer.report())["journal_failing"]:  # a balancer's polls
            assert time.monotonic() < deadline, report
            await asyncio.sleep(0.1)
    assert report["journal_errors"] == 1 and report["stored"] == 3
    assert await count_rows(store, org) == 3


async def test_stored_records_do_not_count_against_a_journal_bound_below_a_segment(
    store: Store, tmp_path: Path
) -> None:
    """With ``HELIOSCOPE_JOURNAL_MAX_BYTES`` below the segment size (64 MiB by default), the
    records already stored stayed in the open segment (deleted only once sealed) and counted
    against the bound: with the store up and nothing waiting, every body was dropped once the
    stored ones had filled it (a new user, 5 MB bound and 900 KB bodies: 337 of 342)."""
    org = (await store.write(keys.get_or_create_org, "acme")).id
    journal_dir = tmp_path / "journal"
    async with writer_for(store, journal_dir, max_bytes=200_000) as writer:
        for _ in range(30):  # 30 x 20 KB: three times the bound, stored as they come
            writer.room.checked = -float("inf")  # (the once-a-second look is now)
            writer.enqueue(row(org, request_body="x" * 20_000))
            await writer.flush()
        report = await writer.report()
    assert report["bodies_dropped"] == 0, report
    assert report["journal_bytes"] < 200_000
    assert await count_rows(store, org) == 30


async def test_a_look_that_finds_the_bound_reached_seals_this_workers_segment(
    store: Store, tmp_path: Path
) -> None:
    """Each process's open segment, up to an eighth of the bound, holds stored records until
    it is sealed: with several processes on a directory, open segments alone could fill the
    bound with nothing waiting. A look that finds the bound reached seals this process's."""
    org = (await store.write(keys.get_or_create_org, "acme")).id
    journal_dir = tmp_path / "journal"
    options: dict[str, Any] = {"max_bytes": 300_000, "worker": "1", "tail": False}
    async with writer_for(store, journal_dir, **options) as writer:
        writer.enqueue(row(org, request_body="x" * 20_000))
        before = segment_files(journal_dir)
        (journal_dir / "0").mkdir()  # another worker's journal, at the bound
        (journal_dir / "0" / _journal.segment_name(1)).write_bytes(b"\0" * 300_000)
        writer.room.checked = -float("inf")  # (the once-a-second look is now)
        writer.enqueue(row(org, request_body="x" * 20_000))
        after = segment_files(journal_dir)
    assert writer.health.bodies_dropped == 1
    assert len([p for p in after if p.parent.name == "1"]) == 2, (before, after)


async def test_bodies_appended_faster_than_the_bound_a_second_are_kept_once_stored(
    store: Store, tmp_path: Path
) -> None:
    """The journal's size is looked at once a second and grown by each append meanwhile: what
    the writer deleted in that second still counted, so more bodies a second than the bound
    were dropped with nothing waiting (5 MB bound, 20 KB bodies at 250 calls/s: 449 of 2,999).
    An append that the estimate would drop looks again (at most every 50 ms)."""
    org = (await store.write(keys.get_or_create_org, "acme")).id
    async with writer_for(store, tmp_path / "journal", max_bytes=200_000) as writer:
        for _ in range(30):  # 30 x 20 KB, stored as they come
            writer.enqueue(row(org, request_body="x" * 20_000))
            await writer.flush()
            # What the once-a-second look would go on from: the estimate at the bound, grown
            # by appends since a look 60 ms ago that found room (past the 50 ms between looks).
            writer.room.bytes = writer.room.limit = 200_000
            writer.room.checked, writer.room.looked_full = time.monotonic() - 0.06, False
        report = await writer.report()
    assert report["bodies_dropped"] == 0, report
