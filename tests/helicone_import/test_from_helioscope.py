"""Import from a second Helioscope (it speaks Helicone's API), seeded by the demo's script.

The source holds users, properties, sessions, streams, errors, feedback, scores, a 2025 prompt
with three versions, a legacy prompt with experiment versions, a dataset with an edited row and
a session tag; all of it must arrive, and a second import must add nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from helioscope.cli.demo import DemoOptions, DemoServer, demo_server, seed
from helioscope.export.records import body_value
from helioscope.helicone_import import ImportOptions, run_import
from helioscope.store import RequestQuery, SessionQuery, Store, keys
from helioscope.store.experiments import datasets as dataset_queries
from helioscope.store.log import requests, scores, sessions
from helioscope.store.prompts import legacy_prompts, legacy_versions, prompts_2025, versions_2025


@pytest.fixture
async def source() -> AsyncIterator[DemoServer]:
    options = DemoOptions(port=0, calls=30, latency_scale=0, concurrency=8)
    async with demo_server(options) as server:
        await seed(server, options)
        auth = {"authorization": f"Bearer {server.key}"}
        async with httpx.AsyncClient(base_url=server.url, headers=auth) as http:
            session = (await http.post("/v1/session/query", json={})).json()["data"][0]
            tag = {"tag": "escalated"}
            await http.post(f"/v1/session/{session['session_id']}/tag", json=tag)
            [dataset] = (await http.post("/v1/helicone-dataset/query", json={})).json()["data"]
            rows = await http.post(
                f"/v1/helicone-dataset/{dataset['id']}/query", json={"offset": 0, "limit": 10}
            )
            edited = rows.json()["data"][0]["origin_request_id"]
            await http.post(
                f"/v1/helicone-dataset/{dataset['id']}/request/{edited}",
                json={"requestBody": {"edited": True}, "responseBody": {"answer": "better"}},
            )
        yield server


def comparable(row: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "status", "provider", "model", "user_id", "properties", "scores", "cost", "latency",
        "prompt_tokens", "completion_tokens", "is_stream", "prompt_id", "prompt_version",
        "session_id", "session_path", "feedback_rating", "target_url", "path",
    )  # fmt: skip
    out = {k: row[k] for k in keep}
    out["created_ms"] = (
        row["request_created_at"]
        .astimezone(dt.UTC)
        .replace(microsecond=row["request_created_at"].microsecond // 1000 * 1000)
    )
    out["request_body"] = body_value(row["request_body"])
    out["response_body"] = body_value(row["response_body"])
    return out


async def everything(store: Store, org_id: str) -> dict[str, dict[str, Any]]:
    rows = await store.log.org(org_id).read(requests.query_requests, RequestQuery(limit=1000))
    return {r["request_id"]: comparable(r) for r in rows}


async def prompts(store: Store, org_id: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    run = store.prompts.org(org_id)
    for prompt in await run.read(prompts_2025.query_prompts, "", [], 0, 100):
        versions = await run.read(versions_2025.versions, prompt.id)
        found[prompt.id] = (
            prompt.name,
            prompt.production_version,
            sorted(
                (v.id, v.major_version, v.minor_version, str(v.environments), str(v.prompt_body))
                for v in versions
            ),
        )
    for legacy in await run.read(legacy_prompts.query_prompts, "all"):
        prompt_id = legacy["prompt"].id
        old = await run.read(legacy_versions.query_versions, prompt_id, "all", True)
        found[prompt_id] = sorted(
            (v.id, v.major_version, v.minor_version, str(v.helicone_template)) for v in old
        )
    return found


async def datasets(store: Store, org_id: str) -> dict[str, Any]:
    found = {}
    run = store.org(org_id)
    for dataset in await run.read(dataset_queries.list_datasets):
        rows = await run.read(dataset_queries.dataset_rows, dataset["id"])
        found[dataset["id"]] = (
            dataset["name"],
            sorted((r["origin_request_id"], str(body_value(r["request_body"]))) for r in rows),
        )
    return found


async def test_everything_arrives_once_however_often_it_is_imported(
    source: DemoServer, store: Store, tmp_path: Path
) -> None:
    src = source.services.store
    [src_org] = await src.read(keys.list_orgs)
    org = await store.write(keys.get_or_create_org, "moved-in")
    options = ImportOptions(
        api_key=source.key, base_url=source.url, checkpoint=tmp_path / "cp.json", page_size=25
    )
    first = await run_import(store, org.id, org.name, options)

    expected = await everything(src, src_org.id)
    assert await everything(store, org.id) == expected
    assert first.tally.requests == len(expected) and first.throttled == 0
    assert first.tally.feedback > 0 and first.tally.scored > 0
    assert await prompts(store, org.id) == await prompts(src, src_org.id)
    assert first.tally.prompts == 2 and first.tally.prompt_versions >= 5
    assert await datasets(store, org.id) == await datasets(src, src_org.id)
    assert "'edited': True" in str(await datasets(store, org.id))
    here, there = store.log.org(org.id), src.log.org(src_org.id)
    for session in await there.read(sessions.query_sessions, SessionQuery()):
        sid = session["session_id"]
        assert await here.read(sessions.get_session_tag, sid) == await there.read(
            sessions.get_session_tag, sid
        )
    assert first.tally.session_tags == 1
    # Scores are indexed for the evals routes too, as when they were given here.
    assert await here.read(scores.names) == await there.read(scores.names)

    # Again: nothing new at the source, nothing doubled here.
    second = await run_import(store, org.id, org.name, options)
    assert second.tally.requests == 0
    assert await everything(store, org.id) == expected
    assert await prompts(store, org.id) == await prompts(src, src_org.id)
    assert await datasets(store, org.id) == await datasets(src, src_org.id)
    assert await here.read(requests.count_requests, "all") == len(expected)
