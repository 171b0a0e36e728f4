"""A provider key stored through the vault reaches the provider, and appears nowhere else.

Not in the database (the SQLite file and its WAL, or every PostgreSQL row), not in the log
rows the API serves, not in the server's output (stdout, stderr, log records at every level).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from helioscope.store.tables import metadata
from helioscope.testing import FakeProvider
from tests.ai_gateway.conftest import ai_client, store_key
from tests.conftest import Running

SECRET_KEYS = {"openai": "sk-openai-GREP-ME-0001", "anthropic": "sk-ant-GREP-ME-0002"}
HELLO: Any = [{"role": "user", "content": "hello"}]


async def _database_text(hs: Running) -> bytes:
    """Every byte the database holds: the SQLite files, or every row of every table."""
    sqlite = hs.services.store.sqlite_file
    if sqlite is not None:
        files = [sqlite, *(Path(f"{sqlite}{suffix}") for suffix in ("-wal", "-shm", "-journal"))]
        return b"".join(f.read_bytes() for f in files if f.exists())
    url = hs.services.settings.database_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_async_engine(url)
    out: list[str] = []
    async with engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = await conn.execute(text(f'SELECT CAST(t AS text) FROM "{table.name}" t'))
            out += [row[0] for row in rows]
    await engine.dispose()
    return "\n".join(out).encode()


async def test_a_stored_key_reaches_the_provider_and_nothing_else(
    helioscope: Running,
    fake: FakeProvider,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # One through Helicone's Vault route, one through its provider-key route.
    async with httpx.AsyncClient(base_url=helioscope.url) as http:
        added = await http.post(
            "/v1/vault/add",
            json={"key": SECRET_KEYS["openai"], "provider": "openai"},
            headers={"authorization": f"Bearer {helioscope.key}"},
        )
        assert added.status_code == 200
    await store_key(helioscope, "anthropic", SECRET_KEYS["anthropic"])
    async with ai_client(helioscope) as client:
        await client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
        assert fake.last.headers["authorization"] == f"Bearer {SECRET_KEYS['openai']}"
        stream = await client.chat.completions.create(
            model="claude-sonnet-4/anthropic",
            messages=HELLO,
            stream=True,
        )
        assert [chunk async for chunk in stream]
        assert fake.last.headers["x-api-key"] == SECRET_KEYS["anthropic"]
        fake.fail_next(401, path="/v1/messages")  # an error answer is logged too
        with pytest.raises(Exception):  # noqa: B017  (the SDK's 401 error)
            await client.chat.completions.create(model="claude-sonnet-4/anthropic", messages=HELLO)
    await helioscope.flush()
    async with httpx.AsyncClient(base_url=helioscope.url) as http:
        rows = await http.post(
            "/v1/request/query",
            json={"filter": "all", "limit": 100},
            headers={"authorization": f"Bearer {helioscope.key}"},
        )
    assert len(rows.json()["data"]) == 3
    output = capfd.readouterr()
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    database = await _database_text(helioscope)
    assert database  # the scan read something
    for key in SECRET_KEYS.values():
        assert key not in rows.text
        assert key.encode() not in database
        assert key not in output.out and key not in output.err
        assert key not in logged
