"""A log with the awkward cases exports must get right, written through the writer's path."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from helioscope.store import LogRow, Store, keys
from helioscope.store.log import requests

T0 = dt.datetime(2025, 5, 1, 9, 30, tzinfo=dt.UTC)


def logged(org_id: str, index: int, **fields: object) -> LogRow:
    values: dict[str, object] = {
        "request_id": f"req-{index:04d}",
        "organization_id": org_id,
        "request_created_at": T0 + dt.timedelta(minutes=index),
        "response_created_at": T0 + dt.timedelta(minutes=index, milliseconds=420),
        "status": 200,
        "provider": "OPENAI",
        "model": "gpt-4o-mini",
        "latency": 420,
        "prompt_tokens": 12,
        "completion_tokens": 5,
        "total_tokens": 17,
        "cost": 1_250,  # USD x 1e9
        "user_id": "ada@example.com",
        "properties": {"environment": "prod", "Helicone-Session-Id": "s-1"},
        "scores": {"accuracy": 90},
        "request_body": '{"messages": [{"role": "user", "content": "hi"}]}',
        "response_body": '{"choices": []}',
        **fields,
    }
    return LogRow(**values)  # type: ignore[arg-type]


@pytest.fixture
async def exported_org(store: Store) -> str:
    """The organization ``fill`` made, on the test's database."""
    return await fill(store)


@pytest.fixture
def sqlite_log(tmp_path: Path) -> str:
    """The URL of a SQLite store ``fill`` filled, for the command's tests (plain functions:
    the command runs its own event loop; one engine is enough to check its wiring)."""
    url = f"sqlite:///{tmp_path / 'exported.db'}"

    async def make() -> None:
        store = Store.open(url)
        await store.migrate()
        await fill(store)
        await store.close()

    asyncio.run(make())
    return url


async def fill(store: Store) -> str:
    """An organization with 30 ordinary rows and a few awkward ones (the last four)."""
    org = await store.write(keys.get_or_create_org, "acme")
    other = await store.write(keys.get_or_create_org, "other")
    rows = [logged(org.id, i) for i in range(30)]
    rows += [
        # A spreadsheet would run these as formulas.
        logged(org.id, 30, user_id='=HYPERLINK("http://evil")', model="+cmd"),
        logged(org.id, 31, user_id="@SUM(A1)", properties={"note": "-2+3"}, status=-2),
        # Not JSON, no response, no cost.
        logged(org.id, 32, request_body="plain text, not JSON", response_body=None, cost=None),
        logged(org.id, 33, model="claude-3-5-haiku", provider="ANTHROPIC", is_stream=True),
    ]
    rows += [logged(other.id, i) for i in range(5)]  # never exported with acme's
    await store.log.write_batch(rows)
    await store.log.org(org.id).write(requests.set_feedback, "req-0003", True)
    return org.id
