"""One process at a time appends to a worker's journal, and one drains a journal root.

Two servers on one journal directory were both worker 0: each one's writer deleted the segments
it had stored, the one the other was appending to among them, and every call the other answered
was lost. The locks are ``flock``s, which the kernel drops with the process that held them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from helioscope.ingest import JournalInUse, claim_journal
from helioscope.ingest._journal import Journal
from helioscope.ingest._journal_locks import WORKER_LOCK, WRITER_LOCK, hold
from helioscope.store import Store
from tests.ingest.test_writer import writer_for


def _journal(root: Path, worker: str = "0", *, drains: bool = False) -> Journal:
    return Journal(root, worker, segment_bytes=1 << 20, fsync_ms=0, drains=drains)


async def test_one_process_appends_to_a_workers_journal_until_it_closes(tmp_path: Path) -> None:
    root = tmp_path / "journal"
    first = _journal(root)
    first.open()
    with pytest.raises(JournalInUse) as refused:
        _journal(root).open()
    assert str(root) in str(refused.value) and "HELIOSCOPE_JOURNAL_DIR" in str(refused.value)
    other = _journal(root, "1")  # another worker's directory: its own lock
    other.open()
    await other.close()
    await first.close()
    again = _journal(root)
    again.open()
    await again.close()
    assert [p.name for p in sorted((root / "0").iterdir())] == [
        "000000000001.journal",
        "000000000002.journal",
        WORKER_LOCK,
    ]  # the refused one made no segment


async def test_one_writer_drains_a_root_while_workers_that_only_journal_join_it(
    store: Store, tmp_path: Path
) -> None:
    root = tmp_path / "journal"
    async with writer_for(store, root, worker="0"):
        with pytest.raises(JournalInUse):
            async with writer_for(store, root, worker="1"):
                pass
        async with writer_for(store, root, worker="1", tail=False) as journalling:
            journalling.enqueue_rows([])
        assert not (root / "1" / "000000000002.journal").exists()
    async with writer_for(store, root, worker="1"):  # the root's lock went with its writer
        pass


async def test_locks_claimed_before_the_server_starts_are_adopted_by_its_journal(
    tmp_path: Path,
) -> None:
    root = tmp_path / "journal"
    claim_journal(root, "0", drains=True)
    for path in (root / WRITER_LOCK, root / "0" / WORKER_LOCK):
        assert _other_process_locks(path) is False
    journal = _journal(root, drains=True)
    journal.open()  # adopts both claimed locks
    for path in (root / WRITER_LOCK, root / "0" / WORKER_LOCK):
        with pytest.raises(JournalInUse):
            hold(path, root)
    await journal.close()
    for path in (root / WRITER_LOCK, root / "0" / WORKER_LOCK):
        assert _other_process_locks(path) is True


def _other_process_locks(path: Path) -> bool:
    """Whether another process can take the lock on ``path`` now (and let it go)."""
    code = (
        "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR);"
        "sys.exit(0 if fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB) is None else 1)"
    )
    return subprocess.run([sys.executable, "-c", code, str(path)], check=False).returncode == 0


def test_a_killed_process_leaves_no_stale_lock(tmp_path: Path) -> None:
    root = tmp_path / "journal"
    code = (
        "import sys; from pathlib import Path; from helioscope.ingest import claim_journal;"
        f"claim_journal(Path({str(root)!r}), '0', drains=True); print('held', flush=True);"
        "sys.stdin.read()"
    )
    argv = [sys.executable, "-c", code]
    with subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
            with pytest.raises(JournalInUse):
                hold(root / WRITER_LOCK, root)
            with pytest.raises(JournalInUse):
                hold(root / "0" / WORKER_LOCK, root)
        finally:
            holder.send_signal(signal.SIGKILL)
            holder.wait(10)
    os.close(hold(root / WRITER_LOCK, root))
    os.close(hold(root / "0" / WORKER_LOCK, root))


def test_the_refusal_names_the_directory_in_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default journal directory with PostgreSQL is relative (./helioscope-journal): the
    # message names the one meant, wherever the reader stands.
    monkeypatch.chdir(tmp_path)
    assert f"directory {tmp_path / 'helioscope-journal'} is in use" in str(
        JournalInUse(Path("helioscope-journal"))
    )
