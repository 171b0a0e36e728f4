"""Upgrading from the spool: whatever state the previous version left it in, the server starts
and moves every record it can read, says what it skipped and where the dead letters are, and
still finds a spool in the directory its removed setting named."""

from __future__ import annotations

import logging
from pathlib import Path

import orjson
import pytest

from helioscope import Settings
from helioscope.ingest import adopt_old_spool
from helioscope.store import LogRow
from helioscope.store.log import requests
from tests.ingest.test_writer import row
from tests.running import running


def _row(org: str) -> LogRow:
    return row(org, request_body='{"a": 1}')


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_torn_spool_in_a_custom_directory_is_moved_and_its_dead_letters_named(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    spool = tmp_path / "custom-spool"
    spool.mkdir()
    monkeypatch.setenv("HELIOSCOPE_LOG_SPOOL_DIR", str(spool))
    monkeypatch.setenv("HELIOSCOPE_LOG_QUEUE_SIZE", "5000")
    org = "org-old-spool"
    first, second = (
        [_row(org) for _ in range(100)],
        [_row(org) for _ in range(50)],
    )
    (spool / "segment-00000000000000000001-1.jsonl").write_bytes(
        b"".join(orjson.dumps(r) + b"\n" for r in first)
    )
    # The previous version crashed (or filled the disk) mid-line: the last line is cut short.
    torn = orjson.dumps(_row(org))[:40]
    (spool / "segment-00000000000000000002-1.jsonl").write_bytes(
        b"".join(orjson.dumps(r) + b"\n" for r in second) + torn
    )
    dead = spool / "dead-letter.jsonl"
    dead.write_bytes(orjson.dumps({"reason": "refused", "row": _row(org)}) + b"\n")
    caplog.set_level(logging.WARNING)
    async with running(settings) as hs:
        await hs.flush()
        log = hs.services.store.log.org(org)
        for r in (first[0], second[-1]):
            assert await log.read(requests.get_request, r.request_id) is not None
    assert not list(spool.glob("segment-*.jsonl"))
    assert dead.exists()  # for a human: never retried
    said = _warnings(caplog)
    assert sum("moved 150 log records" in m and str(spool) in m for m in said) == 1, said
    assert sum("skipped 1 lines of the old spool" in m for m in said) == 1, said
    assert sum(str(dead) in m for m in said) == 1, said
    for name in ("HELIOSCOPE_LOG_SPOOL_DIR", "HELIOSCOPE_LOG_QUEUE_SIZE"):
        assert sum(m.startswith(f"{name} is no longer a setting") for m in said) == 1, said


async def test_only_the_process_that_stores_moves_the_spool(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """serve --workers: the other workers would read the same files and race to delete them."""
    spool = tmp_path / "spool"
    spool.mkdir()
    segment = spool / "segment-00000000000000000001-1.jsonl"
    segment.write_bytes(orjson.dumps(_row("org-x")) + b"\n")
    monkeypatch.setenv("HELIOSCOPE_LOG_SPOOL_DIR", str(spool))
    async with running(settings.model_copy(update={"log_writer": False})):
        pass
    assert segment.exists()


def test_a_segment_the_journal_failed_to_take_is_kept(tmp_path: Path) -> None:
    """A full disk while moving: the segment stays, to be moved again at the next start."""
    segment = tmp_path / "segment-00000000000000000001-1.jsonl"
    segment.write_bytes(b"".join(orjson.dumps(_row("org-y")) + b"\n" for _ in range(3)))
    failures = 0

    def enqueue(_: LogRow) -> None:
        nonlocal failures
        failures += 1  # as LogWriter.enqueue counts a refused append

    assert adopt_old_spool(tmp_path, enqueue, lambda: failures) == 3
    assert segment.exists()
    assert adopt_old_spool(tmp_path, lambda _: None, lambda: 0) == 3
    assert not segment.exists()
