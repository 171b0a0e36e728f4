"""The http:// path, once: the same client code over ClickHouse's HTTP interface (a loopback
server in front of chdb) writes, reads and fails exactly as it does in-process."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest

from helioscope.store import RequestQuery, Store, is_refused, is_transient
from helioscope.store.clickhouse import (
    ClickHouse,
    ClickHouseLog,
    ClickHouseRefused,
    ClickHouseRejected,
    ClickHouseUnavailable,
    insert_log_rows,
    migrate,
)
from helioscope.store.clickhouse import _edits as edits
from helioscope.store.log import metrics, requests
from helioscope.testing import FakeProvider
from tests.conftest import settings_for
from tests.databases import copy_sqlite
from tests.gateway.clients import openai_client, stored
from tests.running import running
from tests.store.clickhouse.http_server import clickhouse_http
from tests.store.clickhouse.parity_data import ORG, log_rows

PROD = {"request_response_rmt": {"properties": {"env": {"equals": "prod"}}}}


async def test_writes_reads_and_errors_over_http(chdb_path: Path) -> None:
    name = f"http_{uuid.uuid4().hex[:12]}"
    with clickhouse_http(chdb_path) as base:
        remote = await ClickHouse.connect(f"{base}/{name}")
        local = await ClickHouse.connect(f"chdb://{chdb_path}?database={name}")
        try:
            assert remote.url.kind == "http"
            await migrate(remote, retention_days=3650)
            await insert_log_rows(remote, log_rows())
            await edits.set_property(remote, ORG, log_rows()[2].request_id, "env", "prod")
            answers = []
            for ch in (remote, local):
                log = ClickHouseLog(ch).org(ORG)
                page = await log.read(requests.query_requests, RequestQuery(filter=PROD))
                totals = await log.read(metrics.totals, "all", None)
                answers.append((page, totals))
            assert answers[0] == answers[1]
            page, totals = answers[0]
            assert totals["requests"] == len(log_rows())
            assert log_rows()[2].request_id in {r["request_id"] for r in page}
            with pytest.raises(ClickHouseRejected):
                await remote.query("SELEC 1")
            with pytest.raises(ClickHouseUnavailable):
                await remote.query("SELECT 1 FROM no_such_table")
        finally:
            await local.command(f"DROP DATABASE IF EXISTS `{name}`")
            await local.close()
            await remote.close()


async def test_a_server_keeps_its_log_in_clickhouse_over_http(
    chdb_path: Path, tmp_path: Path, fake: FakeProvider, _sqlite_template: Path
) -> None:
    """HELIOSCOPE_CLICKHOUSE_URL=http://…: a proxied call is logged there and read back."""
    name = f"http_{uuid.uuid4().hex[:12]}"
    with clickhouse_http(chdb_path) as base:
        url = f"{base}/{name}"
        database_url = copy_sqlite(_sqlite_template, tmp_path)
        async with running(settings_for(database_url, fake, tmp_path, url)) as hs:
            client = openai_client(hs, **{"Helicone-Property-Env": "prod"})
            reply = await client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )
            request_id = reply.headers["helicone-id"]
            row = await stored(hs, request_id)
            assert row["properties"] == {"env": "prod"}, row["properties"]
            async with hs.http() as http:
                answer = await http.post(
                    "/v1/request/query",
                    json={"filter": PROD},
                    headers=hs.auth(),
                )
            assert answer.status_code == 200, answer.text
            assert [r["request_id"] for r in answer.json()["data"]] == [request_id]
        # The row is in ClickHouse (read without the server), not in the SQLite file.
        local = await ClickHouse.connect(f"chdb://{chdb_path}?database={name}")
        try:
            found = await local.query("SELECT request_id FROM request_response FINAL")
            assert [r[0] for r in found.rows] == [request_id]
        finally:
            await local.command(f"DROP DATABASE IF EXISTS `{name}`")
            await local.close()
    store = Store.open(database_url)
    async with store.engine.connect() as conn:
        count = (await conn.exec_driver_sql("SELECT count(*) FROM request_response")).scalar()
    await store.close()
    assert count == 0


async def test_the_served_chdb_answers_only_its_password(chdb_path: Path) -> None:
    """``serve --workers`` serves chdb on loopback: another local user's process, without the
    password the supervisor handed the workers, reads nothing."""
    with clickhouse_http(chdb_path) as base:
        good = await ClickHouse.connect(f"{base}/default")
        try:
            assert (await good.query("SELECT 1 + 1")).rows == [(2,)]
        finally:
            await good.close()
        user, _, host = base.removeprefix("http://").rpartition("@")
        for wrong in (f"{user}x", f"{user.split(':')[0]}:", "default:"):
            name = wrong.partition(":")[0]
            # As a ClickHouse server refuses a login: refused, so no startup waits for it, and
            # not the rows' fault, so the log writer keeps them (it dead-lettered every one).
            with pytest.raises(ClickHouseRefused) as refused:
                await ClickHouse.connect(f"http://{wrong}@{host}/default")
            assert str(refused.value) == (
                f"Code: 516. DB::Exception: {name}: Authentication failed: password is "
                "incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)"
            )
            assert is_refused(refused.value) and is_transient(refused.value)


async def test_the_served_chdb_runs_clients_in_parallel_sessions(chdb_path: Path) -> None:
    """A slow query does not hold up another worker's; a setting one request carries is not
    seen by the next; the X-ClickHouse-User/Key form of the password is taken too."""
    with clickhouse_http(chdb_path) as base:
        slow_client = await ClickHouse.connect(f"{base}/default")
        fast_client = await ClickHouse.connect(f"{base}/default")
        try:
            slow = asyncio.create_task(slow_client.query("SELECT sleepEachRow(1) FROM numbers(3)"))
            await asyncio.sleep(0.5)  # the slow query is running
            started = time.monotonic()
            assert (await fast_client.query("SELECT 1")).rows == [(1,)]
            # Behind one lock it waited for the slow query's 3 s; beside it, milliseconds.
            assert time.monotonic() - started < 1.5 and not slow.done()
            await slow
        finally:
            await slow_client.close()
            await fast_client.close()
        credentials, _, host = base.removeprefix("http://").rpartition("@")
        user, _, password = credentials.partition(":")
        headers = {"X-ClickHouse-User": user, "X-ClickHouse-Key": password}
        setting = "SELECT getSetting('max_threads') = 3"
        async with httpx.AsyncClient(base_url=f"http://{host}", headers=headers) as http:
            answers = [
                (await http.post("/", params=params, content=setting)).text
                for params in ({"max_threads": "3"}, {})
            ]
        assert answers == ["1\n", "0\n"]


async def test_a_stopped_chdb_server_answers_nothing_and_the_client_may_retry(
    chdb_path: Path,
) -> None:
    """Once the serving process stops, a client's open connection gets no answer (a transient
    failure, retried), never an error that would reject the writer's rows for good."""
    with clickhouse_http(chdb_path) as base:
        client = await ClickHouse.connect(f"{base}/default")
        assert (await client.query("SELECT 1")).rows == [(1,)]
    try:
        with pytest.raises(ClickHouseUnavailable):
            await client.query("SELECT 1")
    finally:
        await client.close()
