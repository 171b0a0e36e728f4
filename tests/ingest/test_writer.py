"""The journal and its writer: a locked, missing or failing store never fails the call and never
loses a record; torn and corrupt frames are skipped and counted."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from helioscope import Settings
from helioscope._guard import InternalErrorGuard
from helioscope.ingest import LogWriter
from helioscope.ingest._journal import frame, read_frames
from helioscope.ingest._records import BODIES_DROPPED_PROPERTY
from helioscope.store import LogRow, Store, keys
from helioscope.store.log import requests
from tests.conftest import Running
from tests.gateway.clients import openai_client, stored
from tests.running import running


def row(org: str, **overrides: object) -> LogRow:
    values: dict[str, object] = {
        "request_id": str(uuid.uuid4()),
        "organization_id": org,
        "request_created_at": dt.datetime.now(dt.UTC),
        "status": 200,
        "provider": "OPENAI",
        "model": "gpt-4o-mini",
    }
    values.update(overrides)
    return LogRow(**values)  # type: ignore[arg-type]


@asynccontextmanager
async def locked_log_table(database_url: str) -> AsyncIterator[None]:
    """Hold a lock that blocks every write to the request log until the block exits."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(str(url.database), isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = create_async_engine(url.set(drivername="postgresql+asyncpg"))
    async with engine.connect() as pg:
        transaction = await pg.begin()
        await pg.execute(text("LOCK TABLE request_response IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            await transaction.rollback()
    await engine.dispose()


async def count_rows(store: Store, org: str) -> int:
    async with store.engine.connect() as conn:
        result = await conn.execute(
            text("SELECT count(*) FROM request_response WHERE organization_id = :org"),
            {"org": org},
        )
        return int(result.scalar_one())


def writer_for(store: Store, directory: Path, **options: Any) -> LogWriter:
    values: dict[str, Any] = {
        "guard": InternalErrorGuard(reraise=True),
        "retry_seconds": 0.05,
        "max_retry_seconds": 0.2,
        "linger_seconds": 0.01,
    }
    values.update(options)
    return LogWriter(store, journal_dir=directory, **values)


def segment_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*/*.journal"))


async def test_locked_store_does_not_fail_the_call(helioscope: Running) -> None:
    writer = helioscope.services.started.writer
    async with openai_client(helioscope) as client:
        await client.chat.completions.create(model="gpt-4o-mini", messages=[])  # warm the key
        await helioscope.flush()
        async with locked_log_table(helioscope.services.settings.database_url):
            raw = await asyncio.wait_for(
                client.chat.completions.with_raw_response.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": "while locked"}]
                ),
                timeout=5,
            )
            assert raw.parse().choices[0].message.content.startswith("Hello")
            await asyncio.sleep(0.3)
            report = await writer.report()
            assert report["lag_records"] >= 1
            assert report["journal_bytes"] > 0
    row_ = await stored(helioscope, raw.headers["helicone-id"])
    assert row_["status"] == 200
    assert (await writer.report())["lag_records"] == 0


async def test_rows_and_positions_commit_together_and_stored_segments_go(
    store: Store, tmp_path: Path
) -> None:
    org = (await store.write(keys.get_or_create_org, "acme")).id
    journal_dir = tmp_path / "journal"
    async with writer_for(store, journal_dir) as writer:
        for _ in range(5):
            writer.enqueue(row(org))
        await writer.flush()
    assert await count_rows(store, org) == 5
    positions = await store.journal_positions()
    (key,) = positions
    segment, offset = positions[key]
    assert key.endswith(":0") and segment == segment_files(journal_dir)[-1].name
    assert offset == segment_files(journal_dir)[-1].stat().st_size
    # The next start opens a new segment: the old one is sealed, fully stored, and deleted.
    async with writer_for(store, journal_dir) as writer:
        writer.enqueue(row(org))
        await writer.flush()
        assert len(segment_files(journal_dir)) == 1
    assert await count_rows(store, org) == 6


async def test_a_capture_is_journalled_raw_and_becomes_the_same_row(helioscope: Running) -> None:
    """The journal keeps the call as it was; the row built from it is the one built directly."""
    async with openai_client(helioscope) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "journalled"}],
            extra_headers={"Helicone-Property-Team": "core", "Helicone-User-Id": "u-1"},
        )
    stored_row = await stored(helioscope, raw.headers["helicone-id"])
    assert stored_row["properties"] == {"team": "core"}
    assert stored_row["user_id"] == "u-1"
    assert stored_row["prompt_tokens"] and stored_row["completion_tokens"]
    assert stored_row["cost"] and stored_row["provider"] == "OPENAI"
    assert "journalled" in (stored_row["request_body"] or "")


async def test_batches_full_in_bytes_follow_each_other_without_the_linger(
    store: Store, tmp_path: Path
) -> None:
    # A batch holds at most memory_bytes / 32 of payloads: here 50 KB, three 20 KB records.
    # Thirty records are ten full batches; lingering after each took ten lingers (5 s).
    org = (await store.write(keys.get_or_create_org, "acme")).id
    options = {"linger_seconds": 0.5, "memory_bytes": 32 * 50_000}
    async with writer_for(store, tmp_path / "journal", **options) as writer:
        for _ in range(30):
            writer.enqueue(row(org, request_body="x" * 20_000))
        await asyncio.wait_for(writer.flush(), timeout=2.5)
    assert await count_rows(store, org) == 30


async def test_store_down_at_shutdown_keeps_records_for_the_next_start(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="helioscope.ingest")
    unreachable = _unreachable_url(database_url, tmp_path)
    down = Store.open(unreachable)
    journal_dir = tmp_path / "journal"
    rows = [row("org-1") for _ in range(5)]
    async with writer_for(down, journal_dir, drain_seconds=0.3) as writer:
        for r in rows:
            writer.enqueue(r)
        await asyncio.sleep(0.2)
        report = await writer.report()
        assert report["lag_records"] == 5 and report["failing"]
        assert report["last_error"]
    await down.close()
    # Said at shutdown: how much stays journalled, and where.
    (left,) = [r.getMessage() for r in caplog.records if "at shutdown" in r.getMessage()]
    assert left.startswith("log store still behind at shutdown: ")
    assert f"MB of journal stay under {journal_dir} for the next start" in left

    up = Store.open(database_url)
    await up.migrate()
    async with writer_for(up, journal_dir) as writer:
        await writer.flush()
        await _caught_up(writer)
    assert await count_rows(up, "org-1") == 5
    # Said at the next start: the replay, counted.
    assert any(
        r.getMessage().startswith("storing 5 log records journalled before this start, the oldest")
        for r in caplog.records
    ), caplog.text
    stored_row = await up.log.org("org-1").read(requests.get_request, rows[0].request_id)
    assert stored_row is not None and stored_row["model"] == "gpt-4o-mini"
    await up.close()


async def _caught_up(writer: LogWriter) -> dict[str, Any]:
    for _ in range(100):
        report = await writer.report()
        if report["lag_records"] == 0:
            return report
        await asyncio.sleep(0.05)
    raise AssertionError(f"writer did not catch up: {report}")


async def test_store_that_comes_back_gets_the_waiting_records(
    database_url: str, tmp_path: Path
) -> None:
    """The store is unreachable when the records arrive and reachable later: all get written."""
    url = _unreachable_url(database_url, tmp_path)
    store = Store.open(url)
    async with writer_for(store, tmp_path / "journal") as writer:
        for _ in range(3):
            writer.enqueue(row("org-2"))
        await asyncio.sleep(0.2)
        assert (await writer.report())["lag_records"] == 3
        await _bring_up(url, database_url, tmp_path)
        await asyncio.wait_for(writer.flush(), timeout=10)
        report = await writer.report()
        assert not report["failing"] and report["recovered"] >= 1
    assert await count_rows(store, "org-2") == 3
    await store.close()
    await _tear_down(url, database_url)


async def test_torn_final_frame_is_skipped_and_counted(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    """A crash mid-append leaves a torn last frame: the next start skips it, keeps the rest."""
    org = (await store.write(keys.get_or_create_org, "acme")).id
    journal_dir = tmp_path / "journal"
    down = Store.open(_unreachable_url(database_url, tmp_path))
    async with writer_for(down, journal_dir, drain_seconds=0.1) as writer:
        for _ in range(4):
            writer.enqueue(row(org))
    await down.close()
    (segment,) = segment_files(journal_dir)
    whole = segment.read_bytes()
    torn = frame(b"x" * 100, 0)[:60]  # a header and part of a payload
    segment.write_bytes(whole + torn)
    async with writer_for(store, journal_dir) as writer:
        report = await _caught_up(writer)
        assert report["torn_frames_skipped"] == 1
    assert await count_rows(store, org) == 4


async def test_corrupt_frame_is_skipped_and_the_frames_after_it_are_stored(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    org = (await store.write(keys.get_or_create_org, "acme")).id
    journal_dir = tmp_path / "journal"
    down = Store.open(_unreachable_url(database_url, tmp_path))
    rows = [row(org) for _ in range(5)]
    async with writer_for(down, journal_dir, drain_seconds=0.1) as writer:
        for r in rows:
            writer.enqueue(r)
    await down.close()
    (segment,) = segment_files(journal_dir)
    data = bytearray(segment.read_bytes())
    second = data.find(b"HSJ1", 1)
    data[second + 30] ^= 0xFF  # a flipped byte in the second frame's payload
    segment.write_bytes(bytes(data))
    async with writer_for(store, journal_dir) as writer:
        report = await _caught_up(writer)
        assert report["corrupt_frames_skipped"] == 1
    assert await count_rows(store, org) == 4
    missing = await store.log.org(org).read(requests.get_request, rows[1].request_id)
    assert missing is None


async def test_full_journal_keeps_every_field_but_the_bodies(
    settings: Settings, tmp_path: Path
) -> None:
    full = settings.model_copy(update={"journal_max_bytes": 1})
    async with running(full) as hs, openai_client(hs) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "no room"}]
        )
        stored_row = await stored(hs, raw.headers["helicone-id"])
        report = await hs.services.started.writer.report()
    assert stored_row["request_body"] is None and stored_row["response_body"] is None
    assert stored_row["properties"] == {BODIES_DROPPED_PROPERTY: "journal full"}
    assert stored_row["prompt_tokens"] and stored_row["cost"]
    assert stored_row["request_body_size"] and stored_row["response_body_size"]
    assert report["bodies_dropped"] == 1


async def test_a_bad_row_cannot_block_the_others(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    guard = InternalErrorGuard(reraise=False)  # production behaviour: report and carry on
    journal_dir = tmp_path / "journal"
    dead = journal_dir / "dead-letter.jsonl"
    journal_dir.mkdir()
    dead.touch(mode=0o644)  # (made by an earlier version, readable by all)
    async with writer_for(store, journal_dir, guard=guard) as writer:
        writer.enqueue(row("org-3"))
        # Violates NOT NULL: kept aside whole. PostgreSQL's error details the failing row's
        # values, which must not reach the server's log.
        secrets = {"user_id": "s3cret-user", "properties": {"p": "s3cret-prop"}}
        writer.enqueue(row("org-3", status=None, request_body="s3cret words", **secrets))
        writer.enqueue(row("org-3"))
        await writer.flush()
        report = await writer.report()
    assert await count_rows(store, "org-3") == 2
    assert guard.count == 1
    assert report["dead_lettered"] == 1 and report["lag_records"] == 0
    assert dead.read_bytes().count(b"\n") == 1 and b"s3cret words" in dead.read_bytes()
    assert dead.stat().st_mode & 0o777 == 0o600  # (whole bodies: the server's user alone)
    assert "s3cret" not in caplog.text and "s3cret" not in str(report)
    assert str(dead.resolve()) in caplog.text  # the log says where the row is kept


async def test_a_value_the_column_cannot_hold_is_set_aside_not_retried(
    store: Store, tmp_path: Path, engine_name: str
) -> None:
    """PostgreSQL refuses an id longer than its column (SQLSTATE 22001), and asyncpg's error
    reaches us as a plain DBAPIError: a fault of the row, not of the store. Retried as an outage,
    it held every later record behind it for good."""
    guard = InternalErrorGuard(reraise=False)
    long_org = "o" * 40  # the log's organization_id is VARCHAR(36)
    async with writer_for(store, tmp_path / "journal", guard=guard) as writer:
        writer.enqueue(row("org-5"))
        writer.enqueue(row(long_org))
        writer.enqueue(row("org-5"))
        await asyncio.wait_for(writer.flush(), 20)
        report = await writer.report()
    assert await count_rows(store, "org-5") == 2
    assert report["lag_records"] == 0
    # SQLite and ClickHouse hold the longer text; PostgreSQL's row goes to the dead letters.
    assert report["dead_lettered"] == (1 if engine_name == "postgresql" else 0)


async def test_under_tests_a_bad_row_fails_loudly(store: Store, tmp_path: Path) -> None:
    writer = writer_for(store, tmp_path / "journal")
    with pytest.raises(IntegrityError, match="(?i)null"):
        async with writer:
            writer.enqueue(row("org-4", status=None))
            await writer.flush()


def _unreachable_url(database_url: str, tmp_path: Path) -> str:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{tmp_path / 'not-yet' / 'helioscope.db'}"
    return url.set(database=f"later_{uuid.uuid4().hex[:8]}").render_as_string(False)


async def _admin(database_url: str, sql: str) -> None:
    engine = create_async_engine(
        make_url(database_url).set(drivername="postgresql+asyncpg"), isolation_level="AUTOCOMMIT"
    )
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


async def _bring_up(url: str, database_url: str, tmp_path: Path) -> None:
    # Built under another name and renamed when complete: the writer, retrying meanwhile, must
    # never see a half-migrated store (a missing table is the rows' fault, not a transient).
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        building = tmp_path / "building"
        building.mkdir()
        store = Store.open(f"sqlite:///{building / 'helioscope.db'}")
        await store.migrate()
        await store.close()
        building.rename(tmp_path / "not-yet")
        return
    staging = f"{parsed.database}_building"
    await _admin(database_url, f'CREATE DATABASE "{staging}"')
    store = Store.open(parsed.set(database=staging).render_as_string(False))
    await store.migrate()
    await store.close()
    await _admin(database_url, f'ALTER DATABASE "{staging}" RENAME TO "{parsed.database}"')


async def _tear_down(url: str, database_url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        await _admin(database_url, f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


async def test_the_previous_versions_spool_is_moved_into_the_journal(
    settings: Settings, tmp_path: Path
) -> None:
    """A store from the previous version may have left records in its spool: none is lost."""
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("the old spool lived next to the SQLite file")
    db_file = Path(make_url(settings.database_url).database or "")
    spool = db_file.with_name(db_file.name + ".spool")
    spool.mkdir()
    left = [row("org-5") for _ in range(3)]
    (spool / "segment-00000000000000000001-1.jsonl").write_bytes(
        b"".join(orjson.dumps(r) + b"\n" for r in left)
    )
    async with running(settings) as hs:
        await hs.flush()
        stored_row = await hs.services.store.log.org("org-5").read(
            requests.get_request, left[2].request_id
        )
        assert stored_row is not None
        assert await count_rows(hs.services.store, "org-5") == 3
    assert not list(spool.glob("segment-*.jsonl"))


async def test_a_writer_failure_mid_batch_is_retried_and_reported(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An arbitrary exception inside ``write_batch``, after half the batch is inserted: the
    transaction rolls back, the writer says so in its health, writes the batch again, and every
    record is stored exactly once (under tests, where internal errors would fail loudly)."""
    from helioscope.store import log as log_store

    insert = log_store.insert_log_rows  # type: ignore[attr-defined]
    failures = 0

    async def failing_mid_batch(db: Any, rows: list[LogRow]) -> None:
        nonlocal failures
        await insert(db, rows[: len(rows) // 2])
        if failures < 1 and len(rows) > 1:
            failures += 1
            raise RuntimeError("injected mid-batch")
        await insert(db, rows[len(rows) // 2 :])

    monkeypatch.setattr(log_store, "insert_log_rows", failing_mid_batch)
    org = (await store.write(keys.get_or_create_org, "mid-batch")).id
    rows = [row(org) for _ in range(40)]
    async with writer_for(store, tmp_path / "journal", retry_seconds=0.3) as writer:
        for r in rows:
            writer.enqueue(r)
        for _ in range(50):  # the failure shows while the batch waits for its retry
            report = await writer.report()
            if report["failing"]:
                break
            await asyncio.sleep(0.02)
        assert report["failing"] and report["lag_records"] == 40
        assert report["last_error"] == "RuntimeError: injected mid-batch"
        await writer.flush()
        report = await _caught_up(writer)
    assert failures == 1
    assert not report["failing"] and report["recovered"] == 1
    assert report["dead_lettered"] == 0 and report["stored"] == 40
    assert await count_rows(store, org) == 40  # none lost, none twice
    for r in rows:
        assert await store.log.org(org).read(requests.get_request, r.request_id) is not None


async def test_a_process_that_only_journals_tells_the_writer_alive_by_its_heartbeat(
    store: Store, tmp_path: Path
) -> None:
    # A worker that does not tail (serve --workers / --writer-process) reports the writer of
    # another process: running while that one beats, not running once it stops.
    async with writer_for(store, tmp_path, worker="1", tail=False) as journalling:
        assert (await journalling.report())["running"] is False
        async with writer_for(store, tmp_path, worker="0") as tailing:
            await asyncio.sleep(0.2)
            assert (await journalling.report())["running"] is True
        state = tailing.shared.path
        stale = orjson.loads(state.read_bytes())
        stale["at"] -= journalling.shared.STALE_SECONDS + 1  # as if it had stopped seconds ago
        state.write_bytes(orjson.dumps(stale))
        assert (await journalling.report())["running"] is False


async def test_a_writer_waiting_on_a_locked_store_still_runs_in_the_others_eyes(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    # It beat only between batches: waiting on a lock (SQLite waits up to 30 s) it went stale,
    # and the other workers' readiness said the log writer was not running.
    if store.clickhouse is not None:
        pytest.skip("the lock is the relational log's")
    org = (await store.write(keys.get_or_create_org, "acme")).id
    async with writer_for(store, tmp_path, worker="1", tail=False) as journalling:
        async with writer_for(store, tmp_path, worker="0") as tailing:
            state = tailing.shared.path
            async with locked_log_table(database_url):
                tailing.enqueue(row(org))
                await asyncio.sleep(1.5)  # the writer now waits on the lock
                beaten = orjson.loads(state.read_bytes())["at"]
                # It beats meanwhile: within two beats' time and more (it beats each second).
                deadline = time.monotonic() + 2.5
                while orjson.loads(state.read_bytes())["at"] <= beaten:
                    assert time.monotonic() < deadline, "no beat while waiting on the lock"
                    await asyncio.sleep(0.05)
                report = await journalling.report()
                assert report["running"] is True and report["lag_records"] == 1, report
            await tailing.flush()
    assert await count_rows(store, org) == 1


async def test_rows_enqueued_together_are_one_frame_and_all_stored(
    store: Store, tmp_path: Path
) -> None:
    """An OTLP export's spans: one record in the journal, every row in the store."""
    org = (await store.write(keys.get_or_create_org, "acme")).id
    journal_dir = tmp_path / "journal"
    together = [row(org, request_body=f'{{"n": {n}}}') for n in range(300)]
    async with writer_for(store, journal_dir, batch_size=2) as writer:
        writer.enqueue(row(org))
        writer.enqueue_rows(together)
        writer.enqueue_rows([])
        (segment,) = segment_files(journal_dir)
        frames = read_frames(segment, 0, max_bytes=1 << 30, max_count=100)
        await writer.flush()
    assert len(frames.payloads) == 2
    assert await count_rows(store, org) == 301
    bodies = await store.log.org(org).read(requests.get_request, together[-1].request_id)
    assert bodies is not None and bodies["request_body"] == '{"n": 299}'


async def test_rows_enqueued_together_into_a_full_journal_keep_all_but_bodies(
    store: Store, tmp_path: Path
) -> None:
    org = (await store.write(keys.get_or_create_org, "acme")).id
    together = [row(org, request_body='{"n": 1}', response_body="{}") for _ in range(3)]
    async with writer_for(store, tmp_path / "journal", max_bytes=1) as writer:
        writer.enqueue_rows(together)
        await writer.flush()
    assert writer.health.bodies_dropped == 3
    for sent in together:
        back = await store.log.org(org).read(requests.get_request, sent.request_id)
        assert back is not None and back["request_body"] is None
        assert back["properties"] == {BODIES_DROPPED_PROPERTY: "journal full"}


async def test_the_collector_is_paused_while_a_batch_is_built_and_stored(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch's rows die together by reference counting: no collection traverses them."""
    org = (await store.write(keys.get_or_create_org, "paused")).id
    enabled: list[bool] = []
    write_batch = store.log.write_batch

    async def observed(rows: list[LogRow], **kwargs: Any) -> None:
        enabled.append(gc.isenabled())
        await write_batch(rows, **kwargs)

    monkeypatch.setattr(store.log, "write_batch", observed)
    assert gc.isenabled()
    async with writer_for(store, tmp_path / "journal") as writer:
        writer.enqueue_rows([row(org) for _ in range(20)])
        await writer.flush()
        assert gc.isenabled()  # and running again once the batch is stored
    assert enabled and not any(enabled)
    assert await count_rows(store, org) == 20
