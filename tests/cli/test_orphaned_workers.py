"""``kill -9`` of the ``serve --workers`` supervisor: its workers stop too, and nothing is lost.

They lived on as orphans, serving with nothing supervising them and holding their journals'
locks, so that the next ``serve`` exited 78 until someone killed them by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path

import pytest

from helioscope.cli._orphans import watch_parent
from tests.cli.test_workers import _calls, _ready
from tests.ingest.test_crash_drills import Server, _prepare, fake_provider, until_stored


def _children(pid: int) -> set[int]:
    return {
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    }


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, which its new parent may never reap, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("writer", [(), ("--writer-process",)], ids=["worker0", "writer-process"])
async def test_workers_stop_with_a_killed_supervisor_and_a_restart_finds_every_call(
    tmp_path: Path, writer: tuple[str, ...]
) -> None:
    database_url = f"sqlite:///{tmp_path / 'workers.db'}"
    key = await _prepare(database_url)
    with fake_provider() as upstream:
        server = Server(database_url, upstream, tmp_path, "--workers", "2", *writer)
        server.start()
        assert server.proc is not None
        children: set[int] = set()
        try:
            await _ready(server)
            children = _children(server.proc.pid)
            assert len(children) == 2 + len(writer)
            answered = {r.headers["helicone-id"] for r in await _calls(server, key, 20)}
            assert len(answered) == 20
            server.kill()
            # Each stops as under SIGTERM: its calls finished, the writer drained (5 s at most).
            deadline = time.monotonic() + 15
            while alive := {pid for pid in children if _alive(pid)}:
                assert time.monotonic() < deadline, f"orphaned workers still run: {alive}"
                await asyncio.sleep(0.05)
            # A new serve on the same port and journal starts (no exit 78: the locks are free),
            # and stores whatever the drain left in the journal. One process, which is quicker
            # to start, takes the same locks: the writer's, and worker 0's.
            server.args = ()
            server.start()
            await _ready(server)
            await until_stored(database_url, answered, 15)
        finally:
            server.stop()
            for pid in children:  # orphans the fix failed to stop: not left to the next test
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def test_without_a_parent_death_signal_a_thread_notices_the_parent_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fallback where ``PR_SET_PDEATHSIG`` is not (not Linux): the parent looked up."""
    parents = iter([7, 7, 7, 1])  # the supervisor, three looks, then init: it is gone
    looks: list[int] = []

    def getppid() -> int:
        looks.append(parent := next(parents))
        return parent

    monkeypatch.setattr(os, "getppid", getppid)
    gone: list[int] = []
    watch_parent(7, 0.01, lambda: gone.append(len(looks))).join(5)
    assert gone == [4]  # once, as soon as the parent changed
