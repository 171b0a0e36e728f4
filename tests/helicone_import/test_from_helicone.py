"""Import from a stand-in for Helicone: signed body URLs, 429s, an interruption, a resume."""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from pathlib import Path

import orjson
import pytest

from helioscope.helicone_import import (
    ImportOptions,
    SourceError,
    retry_after_seconds,
    run_import,
)
from helioscope.store import RequestQuery, Store, keys
from helioscope.store.experiments import datasets
from helioscope.store.log import requests
from helioscope.store.prompts import prompts_2025
from tests.helicone_import.fake_helicone import (
    DATASET_ID,
    KEY,
    PROMPT_ID,
    VERSION_ID,
    FakeHelicone,
    bodies,
)

# The fake's twelve requests are one second apart; the window starts at the third.
SINCE = dt.datetime(2025, 6, 1, 10, 0, 2, tzinfo=dt.UTC)


def options(helicone: FakeHelicone, tmp_path: Path) -> ImportOptions:
    return ImportOptions(
        api_key=KEY,
        base_url=helicone.url,
        since=SINCE,
        checkpoint=tmp_path / "checkpoint.json",
        page_size=4,
        retry_seconds=0.01,
        max_attempts=3,
    )


async def stored(store: Store, org_id: str) -> dict[str, dict[str, object]]:
    rows = await store.log.org(org_id).read(requests.query_requests, RequestQuery(limit=1000))
    return {r["request_id"]: r for r in rows}


async def test_bodies_come_from_signed_urls_and_429s_are_waited_out(
    helicone: FakeHelicone, store: Store, tmp_path: Path
) -> None:
    org = await store.write(keys.get_or_create_org, "moved-in")
    result = await run_import(store, org.id, org.name, options(helicone, tmp_path))

    rows = await stored(store, org.id)
    in_window = [r for r in helicone.rows if r["request_created_at"] >= "2025-06-01T10:00:02"]
    # The window's 11 requests, and the dataset's row made before the window (fetched by id).
    assert set(rows) == {r["request_id"] for r in in_window} | {helicone.rows[1]["request_id"]}
    assert result.tally.requests == len(rows) == 12
    assert result.throttled == helicone.throttled > 0
    assert result.tally.bodies_from_urls == 12  # every request's, from its signed URL
    # No API key ever went to a signed URL.
    assert helicone.signed_fetch_headers and not any(helicone.signed_fetch_headers)

    four = rows[helicone.rows[4]["request_id"]]
    assert orjson.loads(str(four["request_body"])) == bodies(4)["request"]
    assert orjson.loads(str(four["response_body"])) == bodies(4)["response"]
    assert four["cost"] == pytest.approx(0.000021) and four["scores"] == {"quality": 4}
    assert four["session_path"] == "/step/4" and four["user_id"] == "user-1"
    assert rows[helicone.rows[3]["request_id"]]["feedback_rating"] is True
    assert rows[helicone.rows[5]["request_id"]]["status"] == 500

    run = store.prompts.org(org.id)
    version = await run.read(prompts_2025.get_version, VERSION_ID)
    assert version is not None and version.prompt_id == PROMPT_ID
    assert (version.major_version, version.minor_version) == (1, 2)
    assert version.prompt_body["messages"][0]["content"] == "Hi"
    assert (await run.read(prompts_2025.get_prompt, PROMPT_ID)).production_version == VERSION_ID
    in_dataset = await store.org(org.id).read(datasets.dataset_rows, DATASET_ID)
    dataset_rows = {r["origin_request_id"]: r for r in in_dataset}
    assert orjson.loads(dataset_rows[helicone.rows[4]["request_id"]]["request_body"]) == {
        "edited": True
    }
    assert (
        orjson.loads(dataset_rows[helicone.rows[1]["request_id"]]["request_body"])
        == bodies(1)["request"]
    )
    assert any(s.startswith("session tags:") for s in result.tally.skipped)


async def test_an_interrupted_import_resumes_from_its_checkpoint(
    helicone: FakeHelicone, store: Store, tmp_path: Path
) -> None:
    org = await store.write(keys.get_or_create_org, "moved-in")
    helicone.fail_from_query = 3  # pages one and two arrive, then the source breaks
    with pytest.raises(SourceError, match="HTTP 500"):
        await run_import(store, org.id, org.name, options(helicone, tmp_path))
    assert len(await stored(store, org.id)) == 8
    checkpoint = orjson.loads((tmp_path / "checkpoint.json").read_bytes())
    assert checkpoint["requests"]["imported"] == 8 and checkpoint["phases_done"] == []

    helicone.fail_from_query = None
    before = len(helicone.queries)
    result = await run_import(store, org.id, org.name, options(helicone, tmp_path))
    resumed = helicone.queries[before]
    # It asked from the newest time it had, past the rows it had seen at that time.
    assert '"gte":"2025-06-01T10:00:08.000Z"' in orjson.dumps(resumed["filter"]).decode()
    assert resumed["offset"] == 1
    assert result.tally.requests == 4  # three left in the window, one for the dataset
    assert len(await stored(store, org.id)) == 12

    again = await run_import(store, org.id, org.name, options(helicone, tmp_path))
    assert again.tally.requests == 0 and len(await stored(store, org.id)) == 12


async def test_a_refused_key_stops_the_import_at_once(
    helicone: FakeHelicone, store: Store, tmp_path: Path
) -> None:
    org = await store.write(keys.get_or_create_org, "moved-in")
    refused = ImportOptions(api_key="sk-wrong", base_url=helicone.url, checkpoint=tmp_path / "c")
    with pytest.raises(SourceError, match=r"refused the API key \(HTTP 401\)"):
        await run_import(store, org.id, org.name, refused)
    assert helicone.throttled == 0 and not await stored(store, org.id)


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < (retry_after_seconds(later) or 0) <= 30
    assert retry_after_seconds(email.utils.formatdate(time.time() - 30, usegmt=True)) == 0
