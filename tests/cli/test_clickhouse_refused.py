"""A ClickHouse that refuses Helioscope's user: one line that names it, a nonzero exit, no wait.

A wrong password or a read-only user is no outage: waiting cannot mend it. ``serve`` ended in
a traceback that named neither ClickHouse nor the refusal (a wrong password), or waited for it
forever (a read-only user); ``keys create`` and ``migrate`` ended in a traceback. The server
here is ClickHouse's HTTP interface in front of this process's chdb
(``store/clickhouse/_serve``), which answers a wrong password as a ClickHouse server does, and
runs a read-only user's queries under ClickHouse's own ``readonly`` setting.
"""

from __future__ import annotations

import re
import secrets
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from helioscope.store.clickhouse import ClickHouse
from helioscope.store.clickhouse._serve import ChdbServer
from helioscope.store.clickhouse._url import SERVED_USER, served_url
from tests.cli.runner import helioscope
from tests.cli.test_store_down import CLICKHOUSE, _answers, _serve, _sqlite, _until
from tests.store.clickhouse.http_server import cutting_proxy

AUTHENTICATION_FAILED = (
    "Code: 516. DB::Exception: helioscope: Authentication failed: password is incorrect, or "
    "there is no user with such name. (AUTHENTICATION_FAILED)"
)


@contextmanager
def _clickhouse(chdb_path: Path, *, readonly: int = 0) -> Iterator[tuple[int, str]]:
    """A ClickHouse HTTP interface on loopback; its port and its user's password."""
    password = secrets.token_urlsafe(16)
    server = ChdbServer(
        str(chdb_path), socket.create_server(("127.0.0.1", 0)), password, readonly=readonly
    )
    try:
        yield server.port, password
    finally:
        server.close()


def _database() -> str:
    return f"refused_{uuid.uuid4().hex[:12]}"


def _serve_until_it_exits(tmp_path: Path, env: dict[str, str]) -> tuple[int, str]:
    """``helioscope serve``'s exit status and stderr (it must exit: one that waits fails)."""
    _, proc, stderr = _serve(_sqlite(tmp_path), tmp_path, env=env)
    try:
        code = proc.wait(30)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"serve did not exit: {stderr.read_text()}") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, stderr.read_text()


def test_serve_with_a_wrong_clickhouse_password_exits_at_once(
    tmp_path: Path, chdb_path: Path
) -> None:
    database = _database()
    with _clickhouse(chdb_path) as (port, password):
        wrong = secrets.token_urlsafe(16)
        env = {CLICKHOUSE: served_url(port, wrong, database)}
        code, text = _serve_until_it_exits(tmp_path, env)
    where = f"ClickHouse http://{SERVED_USER}@127.0.0.1:{port}/{database}"
    assert code == 1, text
    assert text == (  # no traceback, no waiting, neither password
        f"helioscope: store: SQLite file {tmp_path / 'helioscope.db'}\n"
        f"helioscope: error: cannot use the store {where} (ClickHouseRefused: "
        f"{AUTHENTICATION_FAILED})\n"
    )
    assert wrong not in text and password not in text


@pytest.mark.parametrize(
    ("readonly", "refusal"),
    [
        # clickhouse-connect's own refusal to send settings the user may not change
        (1, r"Setting \w+ is readonly: the user is read-only \(readonly=1\), and may not write"),
        (
            2,
            r"Code: 164\. DB::Exception: \w+: Cannot execute query in readonly mode\. \(READONLY\)",
        ),
    ],
    ids=["readonly=1", "readonly=2"],
)
def test_serve_with_a_read_only_clickhouse_user_exits_at_once(
    tmp_path: Path, chdb_path: Path, readonly: int, refusal: str
) -> None:
    """A read-only user was waited for forever (readonly=2), or failed with a traceback (1)."""
    database = _database()
    with _clickhouse(chdb_path, readonly=readonly) as (port, password):
        code, text = _serve_until_it_exits(
            tmp_path, {CLICKHOUSE: served_url(port, password, database)}
        )
    where = f"ClickHouse http://{SERVED_USER}@127.0.0.1:{port}/{database}"
    assert code == 1, text
    store, error = text.splitlines()
    assert store == f"helioscope: store: SQLite file {tmp_path / 'helioscope.db'}", text
    assert error.startswith(f"helioscope: error: cannot use the store {where} (ClickHouseRefused: ")
    assert re.search(refusal, error), error
    assert password not in text


@pytest.mark.parametrize(
    "command", [["keys", "create", "--org", "acme"], ["migrate"]], ids=["keys", "migrate"]
)
def test_one_shot_commands_name_the_clickhouse_that_refuses_them(
    tmp_path: Path, chdb_path: Path, command: list[str]
) -> None:
    database = _database()
    with _clickhouse(chdb_path) as (port, password):
        wrong = secrets.token_urlsafe(16)
        env: dict[str, str | None] = {
            "HELIOSCOPE_DATABASE_URL": _sqlite(tmp_path),
            CLICKHOUSE: served_url(port, wrong, database),
        }
        ran = helioscope(*command, env=env)
    where = f"ClickHouse http://{SERVED_USER}@127.0.0.1:{port}/{database}"
    assert ran.code == 1 and ran.stdout == b"", ran.stderr
    assert ran.stderr == (
        f"helioscope: error: cannot use the store {where} (ClickHouseRefused: "
        f"{AUTHENTICATION_FAILED})\n"
    )
    assert not (tmp_path / "helioscope.db").exists()  # nothing created for a command that failed


async def test_a_clickhouse_connection_cut_at_startup_is_named_as_clickhouse(
    tmp_path: Path, chdb_path: Path
) -> None:
    """Both stores answer, and ClickHouse's connection is cut while the log is migrated: the
    line that says startup tries again named the SQLite file beside it."""
    database = _database()
    with (
        _clickhouse(chdb_path) as (upstream, password),
        cutting_proxy(upstream, b"CREATE TABLE") as port,
    ):
        env = {CLICKHOUSE: served_url(port, password, database)}
        server, _, stderr = _serve(_sqlite(tmp_path), tmp_path, env=env)
        try:
            await _until(lambda: _answers(server), 30, stderr.read_text)
        finally:
            server.stop()
    text = stderr.read_text()
    retries = [line for line in text.splitlines() if "trying again" in line]
    where = f"ClickHouse http://{SERVED_USER}@127.0.0.1:{port}/{database}"
    assert len(retries) == 1, text
    # (``serve`` migrates before the app starts, so that a store it cannot create is one line)
    assert f"helioscope: store {where}: ClickHouseUnavailable: " in retries[0], text
    assert "Traceback" not in text, text
    local = await ClickHouse.connect(f"chdb://{chdb_path}?database={database}")
    try:
        await local.command(f"DROP DATABASE IF EXISTS `{database}`")
    finally:
        await local.close()
