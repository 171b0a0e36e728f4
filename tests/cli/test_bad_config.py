"""Bad configuration or a bad argument: one line that says what is wrong, never a traceback.

Each case was a traceback (tens to hundreds of lines) found by running the commands as an
operator would: a malformed ``HELIOSCOPE_DATABASE_URL`` (whose message quoted the password),
a ``--port`` out of range, a journal directory or SQLite file that cannot be made, an export
to a directory that does not exist, a Helicone import from a URL that is none. Real processes:
``python -m helioscope`` is what runs ``main`` (and its settings check).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

from tests.ingest.test_crash_drills import _free_port


def _run(
    workdir: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> tuple[int, str]:
    """``helioscope ARGS`` in ``workdir``, without the tests' HELIOSCOPE_* settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HELIOSCOPE_")}
    done = subprocess.run(
        [sys.executable, "-m", "helioscope", *args],
        cwd=workdir,
        env={**clean, "HELIOSCOPE_PORT": str(_free_port()), **(env or {})},
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return done.returncode, done.stderr.decode()


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr and "╭" not in stderr.splitlines()[-1], stderr
    return stderr.splitlines()[-1]


def test_a_malformed_database_url_is_one_line_without_its_password(tmp_path: Path) -> None:
    for url, says in [
        ("postgresql://helio:s3cret@db.example:54x2/logs", "its port is not a number"),
        ("mysql://helio:s3cret@db.example/logs", "not a URL of the form sqlite:///"),
        ("helioscope.db", "not a URL of the form sqlite:///"),
    ]:
        code, stderr = _run(
            tmp_path, "keys", "create", "--org", "a", env={"HELIOSCOPE_DATABASE_URL": url}
        )
        assert code == 1 and len(stderr.splitlines()) == 1, stderr
        assert _one_line(stderr).startswith(f"helioscope: HELIOSCOPE_DATABASE_URL: {says}")
        assert "s3cret" not in stderr
    assert list(tmp_path.iterdir()) == []  # no store made on the way


def test_a_malformed_redis_url_stops_serve_before_it_starts(tmp_path: Path) -> None:
    # It was the app's failed startup: redis's ValueError, a traceback, and exit status 3.
    code, stderr = _run(tmp_path, "serve", env={"HELIOSCOPE_REDIS_URL": "localhost:6379"})
    assert code == 1, stderr
    assert _one_line(stderr) == (
        "helioscope: HELIOSCOPE_REDIS_URL: not a URL of the form redis://host:6379/0"
    )


def test_a_port_out_of_range_is_refused_as_an_argument(tmp_path: Path) -> None:
    for command, port in [("serve", "70000"), ("serve", "-1"), ("demo", "70000")]:
        code, stderr = _run(tmp_path, command, "--port", port)
        assert code == 2 and "Traceback" not in stderr and "OverflowError" not in stderr, stderr
        assert "Invalid value for '--port'" in stderr, stderr


def test_a_journal_directory_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("")
    for args in [(), ("--workers", "2")]:
        code, stderr = _run(
            tmp_path, "serve", *args, env={"HELIOSCOPE_JOURNAL_DIR": str(in_the_way / "j")}
        )
        assert code == 78, stderr  # as for a directory in use: a restart cannot mend it
        assert _one_line(stderr) == (
            f"helioscope: error: cannot use the journal directory {in_the_way / 'j'}: Not a "
            f"directory ({in_the_way / 'j'}); set HELIOSCOPE_JOURNAL_DIR to a writable directory"
        )


def test_a_sqlite_file_that_cannot_be_made_stops_serve_in_one_line(tmp_path: Path) -> None:
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("")
    env = {
        "HELIOSCOPE_DATABASE_URL": f"sqlite:///{in_the_way / 'helioscope.db'}",
        "HELIOSCOPE_JOURNAL_DIR": str(tmp_path / "journal"),
    }
    code, stderr = _run(tmp_path, "serve", env=env)
    assert code == 1, stderr
    assert _one_line(stderr).startswith(
        f"helioscope: error: cannot use the store SQLite file {in_the_way / 'helioscope.db'} "
        "(FileExistsError:"
    ), stderr


def _store_with_a_key(workdir: Path) -> None:
    code, stderr = _run(workdir, "keys", "create", "--org", "acme")
    assert code == 0, stderr


def test_an_export_to_a_directory_that_is_not_there_is_one_line(tmp_path: Path) -> None:
    _store_with_a_key(tmp_path)
    code, stderr = _run(tmp_path, "export", "-o", str(tmp_path / "no-such-dir" / "log.jsonl"))
    assert code == 1, stderr
    assert _one_line(stderr) == (
        f"helioscope: error: cannot write {tmp_path / 'no-such-dir' / 'log.jsonl.partial'}: "
        "No such file or directory"
    )


def test_an_export_to_a_named_pipe_writes_into_it(tmp_path: Path) -> None:
    """Not beside it and renamed over it: that made the pipe (or /dev/stdout) a plain file."""
    _store_with_a_key(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with (tmp_path / "read").open("wb") as out:
        reader = subprocess.Popen(["cat", str(fifo)], stdout=out)
    try:
        code, stderr = _run(tmp_path, "export", "-o", str(fifo))
        assert code == 0, stderr
        assert stat.S_ISFIFO(fifo.stat().st_mode), "the pipe was replaced by a file"
        assert reader.wait(10) == 0
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    assert "exported 0 requests" in stderr


def test_an_import_from_something_that_is_no_url_is_refused(tmp_path: Path) -> None:
    code, stderr = _run(tmp_path, "import", "helicone", "--api-key", "k", "--base-url", "notaurl")
    assert code == 2 and "Traceback" not in stderr, stderr
    assert "--base-url must be an http(s):// URL, got 'notaurl'" in stderr
    assert list(tmp_path.iterdir()) == []


def test_an_import_from_a_source_that_refuses_connections_says_it_retries(
    tmp_path: Path,
) -> None:
    # Its eight tries take about two minutes: they passed without a word.
    source = f"http://127.0.0.1:{_free_port()}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HELIOSCOPE_")}
    stderr = tmp_path / "stderr"
    with stderr.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "helioscope", "import", "helicone", "--api-key", "k"]
            + ["--base-url", source],
            cwd=tmp_path,
            env=clean,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 30
        while "(attempt 3 of 8)" not in stderr.read_text():
            assert time.monotonic() < deadline and proc.poll() is None, stderr.read_text()
            time.sleep(0.2)
    finally:
        proc.kill()
        proc.wait()
    lines = [line for line in stderr.read_text().splitlines() if "trying again" in line]
    assert lines[0].startswith(
        f"helioscope: POST {source}/v1/request/count/query: ClientConnectorError: Cannot "
        f"connect to host 127.0.0.1:{source.rsplit(':', 1)[1]}"
    ), lines
    assert lines[0].endswith("(attempt 2 of 8)"), lines
