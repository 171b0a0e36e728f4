"""A long search text or filter pattern is refused with a 400 naming the field.

SQLite refuses a LIKE pattern past 50,000 bytes with an ``OperationalError``, the error a store
outage raises: such a query answered 503 ("the store is unavailable") and put the whole server
in its outage state (readiness ``degraded``) on one client's bad input.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from helioscope import Settings
from tests.api.inprocess import InProcess, Org
from tests.api.org_seed import seed

LONG = "%" * 60_000  # within the body limit; past SQLite's LIKE pattern limit in any escaping
WINDOW = {"startTimeUnixMs": 0, "endTimeUnixMs": 4_000_000_000_000}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The seed stores a provider key, which needs a key to encrypt it with.
    return settings.model_copy(update={"secret_key": SecretStr("patterns-" + "s" * 32)})


@pytest.fixture
async def org(api: InProcess) -> Org:
    made = await api.add_org("patterns")
    await seed(api, made)  # rows to match: SQLite checks a pattern only against a row
    return made


def _leaf(operator: str) -> dict[str, Any]:
    return {"request_response_rmt": {"model": {operator: LONG}}}


CASES: list[tuple[str, str, dict[str, Any], str]] = [
    *[
        ("POST", path, {"filter": _leaf(op)}, f"filter.request_response_rmt.model.{op}")
        for path in ("/v1/request/query", "/v1/request/query-clickhouse")
        for op in ("like", "ilike", "contains", "not-contains")
    ],
    (
        "POST",
        "/v1/request/query",
        {"filter": {"request_response_rmt": {"properties": {"env": {"ilike": LONG}}}}},
        "filter.request_response_rmt.properties.env.ilike",
    ),
    ("POST", "/v1/session/query", {"search": LONG, "timeFilter": WINDOW}, "search"),
    ("POST", "/v1/session/name/query", {"nameContains": LONG}, "nameContains"),
    ("POST", "/v1/session/metrics/query", {"nameContains": LONG, "pSize": "p50"}, "nameContains"),
    ("POST", "/v1/prompt-2025/query", {"search": LONG}, "search"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), CASES)
async def test_long_pattern_is_a_400_naming_the_field_and_no_outage(
    api: InProcess, org: Org, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    response = await api.call(method, path, org.keys["rw"], body)
    assert response.status_code == 400, (response.status_code, response.text)
    error = response.json()
    assert error["data"] is None and field in error["error"], error
    ready = await api.http.get("/health/ready")
    assert ready.json()["status"] == "ready", ready.json()
