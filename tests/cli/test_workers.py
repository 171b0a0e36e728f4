"""``helioscope serve --workers 2``: both workers serve, each call is stored once, one writer
drains both journals, a key revoked through one worker is refused by the other within a second,
and SIGTERM drains."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from pathlib import Path

import httpx

from helioscope.cli._workers import WRITER, listening, named, rate_limit_caveat
from helioscope.config import Settings
from helioscope.store import Store, keys
from tests.ingest.test_crash_drills import Server, _prepare, _stored, fake_provider

BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "two workers"}]}


async def _calls(server: Server, key: str, n: int) -> list[httpx.Response]:
    """``n`` calls, each on a new connection (so that both workers accept some)."""
    headers = {"helicone-auth": f"Bearer {key}", "authorization": "Bearer sk-fake"}
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:
        return list(
            await asyncio.gather(
                *(
                    client.post("/oai/v1/chat/completions", json=BODY, headers=headers)
                    for _ in range(n)
                )
            )
        )


async def _ready(server: Server) -> None:
    """Wait until the workers answer (the parent's socket listens before they start)."""
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        while (await client.get("/health")).status_code != 200:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)


def _children(server: Server) -> list[list[bytes]]:
    """The command lines of the supervisor's children."""
    assert server.proc is not None
    return [
        Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        for task in Path(f"/proc/{server.proc.pid}/task").iterdir()
        for pid in (task / "children").read_text().split()
    ]


def _pid_of(server: Server, argv: list[bytes]) -> int:
    """The pid of the supervisor's child with this command line."""
    assert server.proc is not None
    for task in Path(f"/proc/{server.proc.pid}/task").iterdir():
        for pid in (task / "children").read_text().split():
            if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") == argv:
                return int(pid)
    raise AssertionError(f"no child {argv!r}")


async def _count_when_up(client: httpx.AsyncClient, key: str) -> int | None:
    """The log's count, or None while the store is unavailable (a 503)."""
    answer = await client.post(
        "/v1/request/count/query",
        json={"filter": "all"},
        headers={"authorization": f"Bearer {key}"},
    )
    if answer.status_code == 503:
        return None
    assert answer.status_code == 200, answer.text
    count: int = answer.json()["data"]
    return count


async def _kill_the_writer(
    server: Server, client: httpx.AsyncClient, key: str, logged: int
) -> set[str]:
    """SIGKILL the writer that serves chdb, under calls: the workers go on answering (they only
    journal), the supervisor starts it again, and every call is stored. The calls' ids."""
    (writer,) = [argv for argv in _children(server) if b"--clickhouse-fd" in argv]
    os.kill(_pid_of(server, writer), signal.SIGKILL)
    batch = await _calls(server, key, 100)
    assert {r.status_code for r in batch} == {200}
    deadline = time.monotonic() + 60
    while await _count_when_up(client, key) != logged + len(batch):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.3)
    return {r.headers["helicone-id"] for r in batch}


async def _positions(database_url: str) -> dict[str, tuple[str, int]]:
    store = Store.open(database_url)
    try:
        return await store.journal_positions()
    finally:
        await store.close()


async def test_two_workers_one_writer_shared_caches_and_a_draining_sigterm(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path / 'workers.db'}"
    key = await _prepare(database_url)
    store = Store.open(database_url)
    org = await store.write(keys.get_or_create_org, "drill")
    second = await store.org(org.id).write(keys.create_api_key, "to revoke")
    await store.close()
    with fake_provider() as upstream:
        server = Server(database_url, upstream, tmp_path, "--workers", "2")
        server.start()
        try:
            await _ready(server)
            # Rounds of calls until both workers have served some: under load the second
            # worker can take seconds longer to start than the first.
            answered: set[str] = set()
            served: set[str] = set()
            positions: dict[str, tuple[str, int]] = {}
            deadline = time.monotonic() + 60
            while served != {"0", "1"}:
                assert time.monotonic() < deadline, positions
                batch = {
                    r.headers["helicone-id"] for r in await _calls(server, key, 150) if r.is_success
                }
                assert len(batch) == 150
                answered |= batch
                while await _stored(database_url, answered) != answered:
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.2)
                positions = await _positions(database_url)
                served = {worker.rsplit(":", 1)[1] for worker, (_, at) in positions.items() if at}
            # Both journals had calls, and one writer drained them: every answered call stored.
            assert served == {"0", "1"}, positions

            assert all(r.status_code == 200 for r in await _calls(server, second.key, 40))
            async with httpx.AsyncClient(base_url=server.url) as client:
                revoked = await client.delete(
                    f"/v1/api-keys/{second.id}", headers={"authorization": f"Bearer {key}"}
                )
            assert revoked.status_code == 200, revoked.text
            await asyncio.sleep(1.2)
            refused = await _calls(server, second.key, 40)
            assert {r.status_code for r in refused} == {401}, [r.status_code for r in refused]

            last = {
                r.headers["helicone-id"] for r in await _calls(server, key, 100) if r.is_success
            }
            assert server.proc is not None
            server.proc.send_signal(signal.SIGTERM)
            assert server.proc.wait(60) == 0
            assert await _stored(database_url, last) == last
        finally:
            server.stop()


async def test_writer_process_stores_every_call_from_a_process_of_its_own(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'writer.db'}"
    key = await _prepare(database_url)
    with fake_provider() as upstream:
        server = Server(database_url, upstream, tmp_path, "--writer-process")
        server.stderr = (tmp_path / "stderr").open("wb")
        server.start()
        try:
            await _ready(server)
            children = _children(server)
            # One serving worker on the inherited socket, and the writer on a port of its own.
            assert sorted(b"--fd" in argv for argv in children) == [False, True], children
            answered = {
                r.headers["helicone-id"] for r in await _calls(server, key, 200) if r.is_success
            }
            assert len(answered) == 200
            deadline = time.monotonic() + 30
            while await _stored(database_url, answered) != answered:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.2)
            # The serving worker runs no writer: it is ready by the writer process's heartbeat.
            async with httpx.AsyncClient(base_url=server.url) as client:
                ready = await client.get("/health/ready")
            assert ready.status_code == 200, ready.text
            assert ready.json()["writer"]["running"] is True
            last = {r.headers["helicone-id"] for r in await _calls(server, key, 50) if r.is_success}
            assert server.proc is not None
            server.proc.send_signal(signal.SIGTERM)
            assert server.proc.wait(60) == 0
            assert await _stored(database_url, last) == last  # the writer stopped last
        finally:
            server.stop()
            server.stderr.close()
    # The server said where it serves, once, and which store and journal it uses, once: the
    # writer's process listens on a loopback port of its own, which no client is sent to.
    said = (tmp_path / "stderr").read_text()
    assert said.count("helioscope: store: ") == 1 and said.count("helioscope: journal: ") == 1
    assert re.findall(r"http://[\w.:\[\]]+", said) == [server.url], said
    # Nothing to warn of: the serving worker charges its own calls' u=cents costs.
    assert "helioscope: warning:" not in said, said


async def _count(client: httpx.AsyncClient, key: str, filter_: object = "all") -> int:
    answer = await client.post(
        "/v1/request/count/query",
        json={"filter": filter_},
        headers={"authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 200, answer.text
    count: int = answer.json()["data"]
    return count


async def test_workers_share_an_embedded_clickhouse_through_the_writer(tmp_path: Path) -> None:
    """chdb is open to one process: with ``--workers 2 --writer-process`` the writer opens it
    and serves it to both workers over ClickHouse's HTTP interface. Calls on both are stored
    once each, and reads and edits through either worker see the same log."""
    database_url = f"sqlite:///{tmp_path / 'workers.db'}"
    key = await _prepare(database_url)
    with fake_provider() as upstream:
        server = Server(database_url, upstream, tmp_path, "--workers", "2", "--writer-process")
        server.env["HELIOSCOPE_CLICKHOUSE_URL"] = f"chdb://{tmp_path / 'clickhouse'}"
        server.start()
        try:
            await _ready(server)
            children = _children(server)
            # Two serving workers, and the writer, which alone serves chdb.
            assert sorted(b"--clickhouse-fd" in argv for argv in children) == [False, False, True]
            answered: set[str] = set()
            limits = httpx.Limits(max_keepalive_connections=0)  # a worker a connection
            # A query sent while the writer restarts waits for it (the supervisor's socket
            # holds it in the backlog): seconds on a loaded machine, past httpx's default 5 s.
            async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as client:
                deadline = time.monotonic() + 60
                served: set[str] = set()
                while served != {"0", "1"}:  # rounds until both workers have served calls
                    batch = await _calls(server, key, 100)
                    assert {r.status_code for r in batch} == {200}
                    answered |= {r.headers["helicone-id"] for r in batch}
                    # Every answered call is stored once, as the workers read it (by turns).
                    counts: set[int] = set()
                    while counts != {len(answered)}:
                        assert time.monotonic() < deadline, counts
                        counts = {await _count(client, key) for _ in range(6)}
                        await asyncio.sleep(0.2)
                    positions = await _positions(database_url)
                    served = {w.rsplit(":", 1)[1] for w, (_, at) in positions.items() if at}
                # An edit through one worker is read through the other (the same chdb).
                request_id = sorted(answered)[0]
                edited = await client.put(
                    f"/v1/request/{request_id}/property",
                    json={"key": "checked", "value": "yes"},
                    headers={"authorization": f"Bearer {key}"},
                )
                assert edited.status_code == 200, edited.text
                checked = {"properties": {"checked": {"equals": "yes"}}}
                seen = [
                    await _count(client, key, {"request_response_rmt": checked}) for _ in range(6)
                ]
                assert seen == [1] * 6
                answered |= await _kill_the_writer(server, client, key, len(answered))
            assert server.proc is not None
            server.proc.send_signal(signal.SIGTERM)
            assert server.proc.wait(60) == 0
        finally:
            server.stop()
        await _one_process_finds(tmp_path, database_url, upstream, key, len(answered))


async def _one_process_finds(
    tmp_path: Path, database_url: str, upstream: str, key: str, answered: int
) -> None:
    """The next start (one process) opens the same chdb and finds every call there.

    It names the store of organizations and keys, and the ClickHouse the log is in.
    """
    server = Server(database_url, upstream, tmp_path)
    server.env["HELIOSCOPE_CLICKHOUSE_URL"] = f"chdb://{tmp_path / 'clickhouse'}"
    server.stderr = (tmp_path / "stderr").open("wb")
    server.start()
    try:
        await _ready(server)
        async with httpx.AsyncClient(base_url=server.url) as client:
            assert await _count(client, key) == answered
    finally:
        server.stop()
        server.stderr.close()
    said = (tmp_path / "stderr").read_text().splitlines()
    assert f"helioscope: store: SQLite file {tmp_path / 'workers.db'}" in said, said
    chdb = f"chdb://{tmp_path / 'clickhouse'}?database=helioscope"
    assert f"helioscope: log: ClickHouse {chdb}" in said, said


def test_the_supervisor_names_its_address_and_its_children() -> None:
    settings = Settings(host="::1", port=8787)
    assert listening(settings, 2, True) == "2 workers and a log writer process on http://[::1]:8787"
    assert (
        listening(Settings(host="0.0.0.0", port=80), 3, False) == "3 workers on http://0.0.0.0:80"
    )
    assert named(WRITER) == "the log writer process"
    assert named(1) == "worker 1"


def test_the_supervisor_says_what_rate_limits_do_across_its_processes() -> None:
    alone, shared = Settings(), Settings(redis_url="redis://127.0.0.1:6379/0")
    assert rate_limit_caveat(alone, 3) == (
        "each of the 3 workers keeps its own rate-limit buckets (set HELIOSCOPE_REDIS_URL to "
        "share them): a policy allows up to 3 times its quota"
    )
    # Every worker charges u=cents for the calls it serves: nothing else to say.
    assert rate_limit_caveat(shared, 3) is None
    assert rate_limit_caveat(alone, 1) is None
