"""A second ``helioscope serve`` on a journal directory in use refuses to start, in one line.

Both were worker 0 of one journal: the second one's writer deleted the segment the first was
appending to, and every call the first answered afterwards was lost (a rolling restart did it).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from helioscope.ingest._journal_locks import WORKER_LOCK
from tests.cli.test_workers import _calls
from tests.ingest.test_crash_drills import Server, _free_port, _prepare, fake_provider, until_stored


def _refused(server: Server, *args: str) -> tuple[int, str]:
    """Run ``serve`` with ``server``'s settings on a port of its own: exit status, stderr."""
    env = {**server.env, "HELIOSCOPE_PORT": str(_free_port())}
    done = subprocess.run(
        [sys.executable, "-m", "helioscope", "serve", *args],
        env=env,
        capture_output=True,
        timeout=90,
        check=False,
    )
    return done.returncode, done.stderr.decode()


async def test_a_second_server_on_a_journal_in_use_says_so_and_the_first_loses_nothing(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path / 'helioscope.db'}"
    key = await _prepare(database_url)
    said = (
        f"helioscope: the journal directory {tmp_path / 'journal'} is in use by another process "
        "(another `helioscope serve` on it?): stop that one, or give this one a journal "
        "directory of its own with HELIOSCOPE_JOURNAL_DIR"
    )
    with fake_provider() as upstream:
        first = Server(database_url, upstream, tmp_path)
        first.start()
        try:
            before = await _calls(first, key, 20)
            status, stderr = _refused(first)
            assert status == 78 and said in stderr.splitlines()
            assert "Traceback" not in stderr
            # A supervisor says it once, for its workers, and starts none.
            status, stderr = _refused(first, "--workers", "2", "--writer-process")
            assert status == 78 and stderr.splitlines().count(said) == 1
            assert "Traceback" not in stderr and "Started server process" not in stderr
            after = await _calls(first, key, 20)
            answered = {r.headers["helicone-id"] for r in before + after if r.status_code == 200}
            assert len(answered) == 40
            await until_stored(database_url, answered, 30)
        finally:
            first.stop()


async def test_a_supervisor_whose_restarted_worker_finds_its_journal_taken_stops(
    tmp_path: Path,
) -> None:
    # Restarting a worker whose journal directory another process took in the meantime cannot
    # help: the worker exits 78, and its supervisor stops every worker and exits 78 too, rather
    # than restarting it again and again.
    database_url = f"sqlite:///{tmp_path / 'helioscope.db'}"
    await _prepare(database_url)
    with fake_provider() as upstream:
        server = Server(database_url, upstream, tmp_path, "--workers", "2")
        server.start()
        assert server.proc is not None
        lock = tmp_path / "journal" / "1" / WORKER_LOCK
        fd = os.open(lock, os.O_RDWR)
        try:
            worker = await _worker_pid(server, "1")
            os.kill(worker, signal.SIGKILL)
            # Taken as soon as the killed worker's lock is let go: before the supervisor, which
            # looks every 0.2 s, has started another worker 1 (it takes a second to import).
            await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
            assert await asyncio.to_thread(server.proc.wait, 90) == 78
        finally:
            os.close(fd)
            server.stop()


async def _worker_pid(server: Server, worker: str) -> int:
    """The pid of the supervisor's child for ``worker`` (it listens before it starts them)."""
    deadline = time.monotonic() + 60
    while True:
        found = [pid for pid in _child_pids(server) if _worker_id(pid) == worker]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no worker {worker}"
        await asyncio.sleep(0.1)


def _child_pids(server: Server) -> list[int]:
    assert server.proc is not None
    return [
        int(pid)
        for task in Path(f"/proc/{server.proc.pid}/task").iterdir()
        for pid in (task / "children").read_text().split()
    ]


def _worker_id(pid: int) -> str:
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    found = [v for v in environ if v.startswith(b"HELIOSCOPE_WORKER_ID=")]
    return found[0].split(b"=", 1)[1].decode() if found else ""
