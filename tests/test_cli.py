"""The ``helioscope`` command as a user runs it: in a separate process, over a real database."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from helioscope.store import Store, hash_api_key, keys
from helioscope.store.log import requests
from helioscope.testing import FakeProvider
from tests.cli.runner import helioscope as helioscope_cli
from tests.conftest import Running
from tests.gateway.clients import PROVIDER_KEY, openai_client

HELIOSCOPE = [sys.executable, "-m", "helioscope"]


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *HELIOSCOPE,
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_keys_create_works_at_once_on_a_running_server(
    helioscope: Running, database_url: str
) -> None:
    code, out, err = await run_cli(
        "keys", "create", "--org", "newco", env={"HELIOSCOPE_DATABASE_URL": database_url}
    )
    assert code == 0, err
    key = out.strip().splitlines()[-1]
    assert key.startswith("sk-helicone-")
    # Stored hashed, never in clear.
    found = await helioscope.services.store.read(keys.find_api_key, hash_api_key(key))
    assert found is not None
    async with helioscope.services.store.engine.connect() as conn:
        dump = str((await conn.exec_driver_sql("SELECT * FROM helicone_api_keys")).all())
    assert key not in dump

    async with helioscope.http() as http:
        response = await http.post(
            "/oai/v1/chat/completions",
            json={"model": "gpt-4o-mini", "messages": []},
            headers={"authorization": f"Bearer {PROVIDER_KEY}", "helicone-auth": f"Bearer {key}"},
        )
    assert response.status_code == 200
    await helioscope.flush()
    row = await helioscope.services.store.log.org(found.organization_id).read(
        requests.get_request, response.headers["helicone-id"]
    )
    assert row is not None


def test_keys_create_rejects_a_bad_scope() -> None:
    # Refused before any database is opened: in this process (tests/cli/runner.py).
    ran = helioscope_cli("keys", "create", "--org", "x", "--scope", "admin")
    assert ran.code == 2
    assert "scope must be one of" in ran.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_serve_bootstraps_a_key_and_drains_the_log_on_sigterm(
    database_url: str, fake: FakeProvider, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "HELIOSCOPE_DATABASE_URL": database_url,
        "HELIOSCOPE_PORT": str(port),
        "HELIOSCOPE_OPENAI_BASE_URL": fake.url,
        "HELIOSCOPE_JOURNAL_DIR": str(tmp_path / "journal"),
    }
    proc = await asyncio.create_subprocess_exec(
        *HELIOSCOPE,
        "serve",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        banner = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert b"created organization 'default'" in banner
        key = (await proc.stdout.readline()).decode().strip()
        assert key.startswith("sk-helicone-")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(200):
                try:
                    await http.get("/v1/request/none")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            response = await http.post(
                "/oai/v1/chat/completions",
                json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "bye"}]},
                headers={
                    "authorization": f"Bearer {PROVIDER_KEY}",
                    "helicone-auth": f"Bearer {key}",
                },
            )
        assert response.status_code == 200
        proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully (lifespan, log drain), then re-raises the signal so the
        # exit status says how the process ended, as a process manager expects.
        assert await asyncio.wait_for(proc.wait(), 30) in (0, -signal.SIGTERM)
        assert proc.stderr is not None
        said = (await proc.stderr.read()).decode()
        assert "helioscope: store: " in said  # which store
        assert f"helioscope: journal: {(tmp_path / 'journal').resolve()}\n" in said
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    store = Store.open(database_url)
    try:
        found = await store.read(keys.find_api_key, hash_api_key(key))
        assert found is not None
        row = await store.log.org(found.organization_id).read(
            requests.get_request, response.headers["helicone-id"]
        )
        assert row is not None and row["status"] == 200
    finally:
        await store.close()


async def test_second_start_does_not_create_another_key(
    helioscope: Running, database_url: str
) -> None:
    # The fixture's organization exists, so a server starting on this store must stay quiet.
    async with openai_client(helioscope) as client:
        await client.chat.completions.create(model="gpt-4o-mini", messages=[])
    assert helioscope.services.bootstrap_key is None
    assert await helioscope.services.store.read(keys.count_orgs) == 1


def test_a_bad_setting_is_one_line_naming_its_variable(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HELIOSCOPE_JOURNAL_MAX_BYTES": "lots",
        "HELIOSCOPE_LOG_MEMORY_BYTES": "5",
        "HELIOSCOPE_DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}",
    }
    ran = subprocess.run(
        [sys.executable, "-m", "helioscope", "serve"], env=env, capture_output=True, text=True
    )
    assert ran.returncode == 1
    assert ran.stderr.splitlines() == [
        "helioscope: HELIOSCOPE_JOURNAL_MAX_BYTES: Input should be a valid integer, unable to "
        "parse string as an integer",
        "helioscope: HELIOSCOPE_LOG_MEMORY_BYTES: Input should be greater than or equal to 1048576",
    ]
    assert not (tmp_path / "never.db").exists()


def test_serve_on_a_port_in_use_says_so_before_making_a_store_or_a_key(tmp_path: Path) -> None:
    """A first start that cannot listen used to create the store and print the bootstrap key,
    which no later start prints again, before uvicorn failed to bind."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        for extra in ([], ["--workers", "2"]):
            database = tmp_path / f"never{len(extra)}.db"
            env = {
                **os.environ,
                "HELIOSCOPE_DATABASE_URL": f"sqlite:///{database}",
                "HELIOSCOPE_PORT": str(port),
                "HELIOSCOPE_HOST": "127.0.0.1",
            }
            env.pop("HELIOSCOPE_BOOTSTRAP_DEFAULT_ORG", None)
            ran = subprocess.run(
                [*HELIOSCOPE, "serve", *extra], env=env, capture_output=True, text=True, timeout=60
            )
            assert ran.returncode == 1, ran.stderr
            assert ran.stderr.splitlines() == [
                f"helioscope: error: cannot listen on 127.0.0.1:{port}: Address already in use"
            ]
            assert ran.stdout == ""
            assert not database.exists()
    finally:
        taken.close()
