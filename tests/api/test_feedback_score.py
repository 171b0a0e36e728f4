"""Feedback is the score ``helicone-score-feedback``, as in Helicone, whichever route sets it.

Helicone keeps a request's rating in its scores map under ``helicone-score-feedback`` (1 or 0,
no ``-hcone-bool`` suffix): its request table and drawer read the rating from there, and
posting that score through ``/score`` records the feedback too. Scripts that read
``scores["helicone-score-feedback"]`` or score it directly must see one rating either way.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Running
from tests.gateway.clients import openai_client, stored

# These routes write and read the log: they run with it in ClickHouse too (tests/conftest.py).
pytestmark = pytest.mark.clickhouse

FEEDBACK = "helicone-score-feedback"


async def _logged(hs: Running) -> str:
    async with openai_client(hs) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "rate me"}]
        )
    request_id = str(raw.headers["helicone-id"])
    await stored(hs, request_id)
    return request_id


async def _ok(hs: Running, path: str, json: Any) -> Any:
    response = await hs.client.post(path, json=json, headers=hs.auth())
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def _request(hs: Running, request_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = await _ok(
        hs,
        "/v1/request/query",
        {"filter": {"request_response_rmt": {"request_id": {"equals": request_id}}}},
    )
    assert len(found) == 1
    return found[0]


async def _matching(hs: Running, node: Any) -> list[str]:
    return [r["request_id"] for r in await _ok(hs, "/v1/request/query", {"filter": node})]


async def test_feedback_route_sets_the_feedback_score(helioscope: Running) -> None:
    liked, disliked = await _logged(helioscope), await _logged(helioscope)
    await _ok(helioscope, f"/v1/request/{liked}/feedback", {"rating": True})
    await _ok(helioscope, f"/v1/request/{disliked}/feedback", {"rating": False})
    assert (await _request(helioscope, liked))["scores"] == {FEEDBACK: 1}
    assert (await _request(helioscope, disliked))["scores"] == {FEEDBACK: 0}
    by_score = {"request_response_rmt": {"scores": {FEEDBACK: {"equals": 1}}}}
    assert await _matching(helioscope, by_score) == [liked]
    # A new rating replaces the old one in both places.
    await _ok(helioscope, f"/v1/request/{liked}/feedback", {"rating": False})
    row = await _request(helioscope, liked)
    assert row["scores"] == {FEEDBACK: 0} and row["feedback_rating"] is False


@pytest.mark.parametrize("value", [True, 1])
async def test_scoring_feedback_records_the_feedback(helioscope: Running, value: Any) -> None:
    request_id = await _logged(helioscope)
    await _ok(helioscope, f"/v1/request/{request_id}/score", {"scores": {FEEDBACK: value}})
    row = await _request(helioscope, request_id)
    assert row["scores"] == {FEEDBACK: 1}  # the bare key, not FEEDBACK + "-hcone-bool"
    assert row["feedback_rating"] is True
    by_rating = {"feedback": {"rating": {"equals": True}}}
    assert await _matching(helioscope, by_rating) == [request_id]
    await _ok(helioscope, f"/v1/request/{request_id}/score", {"scores": {FEEDBACK: False}})
    row = await _request(helioscope, request_id)
    assert row["scores"] == {FEEDBACK: 0} and row["feedback_rating"] is False
