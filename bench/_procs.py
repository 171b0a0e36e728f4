"""Start the fake provider and a Helioscope server as separate processes, on free ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_listening(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User plus system CPU time a process (or one of its threads) has used so far (Linux)."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux), parents first."""
    found = [pid]
    for member in found:
        for task in Path(f"/proc/{member}/task").iterdir():
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def is_writer_process(pid: int) -> bool:
    """True for the process ``serve --writer-process`` starts for the log writer alone."""
    return b"--port\x000" in Path(f"/proc/{pid}/cmdline").read_bytes()


def wait_healthy(port: int, timeout: float = 60) -> None:
    """Wait until the server answers /health (its workers are up).

    A 404 is an answer too: a version from before /health (the round's starting code, which
    ``bench/cpu_ab.py --a-src`` compares against) serves in one process, up once it listens.
    """
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                if r.status == 200:
                    return
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"no healthy server on {port}")


@dataclass
class Upstream:
    url: str
    pid: int


@contextmanager
def fake_provider() -> Iterator[Upstream]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "helioscope.testing", "--port", str(port)])
    try:
        wait_listening(port)
        yield Upstream(f"http://127.0.0.1:{port}", proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


@dataclass
class Server:
    url: str
    key: str
    database_url: str
    pid: int


def helioscope(
    upstream: str,
    workdir: Path,
    database_url: str | None = None,
    *,
    workers: int = 1,
    writer_process: bool = False,
    **settings: str,
) -> AbstractContextManager[Server]:
    """A Helioscope server on a free port (``settings``: ``HELIOSCOPE_*`` values)."""
    return launch(upstream, workdir, database_url, workers, writer_process, settings)


@contextmanager
def launch(
    upstream: str,
    workdir: Path,
    database_url: str | None,
    workers: int,
    writer_process: bool,
    settings: Mapping[str, str],
    under: tuple[str, ...] = (),
    start_seconds: float = 60,
    *,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """``helioscope``, run under another command (``under``: valgrind) if asked.

    ``extra_env``: more environment for the server (``PYTHONPATH`` to run another source tree).
    """
    port = free_port()
    database_url = database_url or f"sqlite:///{workdir / 'bench.db'}"
    env = {
        **os.environ,
        "HELIOSCOPE_DATABASE_URL": database_url,
        "HELIOSCOPE_PORT": str(port),
        "HELIOSCOPE_OPENAI_BASE_URL": upstream,
        "HELIOSCOPE_ANTHROPIC_BASE_URL": upstream,
        "HELIOSCOPE_JOURNAL_DIR": str(workdir / "journal"),
        **{f"HELIOSCOPE_{k.upper()}": v for k, v in settings.items()},
        **(extra_env or {}),
    }
    env["HELIOSCOPE_BOOTSTRAP_DEFAULT_ORG"] = "false"
    created = subprocess.run(
        [sys.executable, "-m", "helioscope", "keys", "create", "--org", "bench"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    key = created.stdout.strip().splitlines()[-1]
    command = [*under, sys.executable, "-m", "helioscope", "serve"]
    command += ["--workers", str(workers)] if workers > 1 else []
    command += ["--writer-process"] if writer_process else []
    proc = subprocess.Popen(command, env=env)
    try:
        wait_listening(port, start_seconds)
        wait_healthy(port, start_seconds)  # with --workers the socket listens before the workers
        yield Server(f"http://127.0.0.1:{port}", key, database_url, proc.pid)
    finally:
        proc.terminate()
        proc.wait(900)  # shutdown drains the log queue first


def count_rows(server: Server) -> int:
    """Rows in the request log, read through the store (after the server has drained)."""
    import asyncio

    from sqlalchemy import text

    from helioscope.store import Store

    async def count() -> int:
        store = Store.open(server.database_url)
        async with store.engine.connect() as conn:
            n = (await conn.execute(text("SELECT count(*) FROM request_response"))).scalar_one()
        await store.close()
        return int(n)

    return asyncio.run(count())
