"""A second ``helioscope serve`` on a journal directory in use refuses to start, in one line.

Both were worker 0 of one journal: the second one's writer deleted the segment the first was
appending to, and every call the first answered afterwards was lost (a rolling restart did it).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.test_workers import _calls
from tests.ingest.test_crash_drills import Server, _free_port, _prepare, _stored, fake_provider


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
            deadline = time.monotonic() + 30
            while await _stored(database_url, answered) != answered:
                assert time.monotonic() < deadline, "answered calls were never stored"
                await asyncio.sleep(0.2)
        finally:
            first.stop()
