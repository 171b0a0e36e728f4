"""``Customer``: the log's user ids as customers, and one customer's usage, in Helicone's shapes."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.api.families import check, check_array, log_row
from tests.running import Running

# These routes read the log: they run with it in ClickHouse too (tests/conftest.py).
pytestmark = pytest.mark.clickhouse

NOW = dt.datetime.now(dt.UTC)


async def test_customers_and_their_usage_come_from_the_callers_log(helioscope: Running) -> None:
    other_org, other_key = await helioscope.add_org("other")
    org = helioscope.org_id
    await helioscope.services.store.log.write_batch(
        [
            log_row(org, NOW - dt.timedelta(days=40), user_id="ann", cost=1_500_000_000),
            log_row(org, NOW - dt.timedelta(hours=1), user_id="ann", prompt_tokens=7, cost=500),
            log_row(org, NOW, user_id="bob", completion_tokens=9, cost=None),
            log_row(org, NOW),  # no user: no customer
            log_row(other_org, NOW, user_id="zed", cost=10**9),
            log_row(other_org, NOW, user_id="ann", cost=10**9),
        ]
    )
    client, auth = helioscope.client, helioscope.auth()

    response = await client.post("/v1/customer/query", json={}, headers=auth)
    assert response.status_code == 200, response.text
    customers = response.json()
    check_array("Customer", customers)
    assert customers == [{"id": "ann", "name": "ann"}, {"id": "bob", "name": "bob"}]

    response = await client.post("/v1/customer/ann/usage/query", json={}, headers=auth)
    usage = response.json()
    check("CustomerUsage", usage)
    assert usage == {
        "id": "ann",
        "name": "ann",
        "cost": 1.5000005,
        "count": 2,
        "prompt_tokens": 17,
        "completion_tokens": 10,
    }

    response = await client.post("/v1/customer/bob/usage/query", json={}, headers=auth)
    assert response.json() == {
        "id": "bob",
        "name": "bob",
        "cost": 0,
        "count": 1,
        "prompt_tokens": 10,
        "completion_tokens": 9,
    }
    # Another organization's customer is nobody here, and this one's is nobody there.
    response = await client.post("/v1/customer/zed/usage/query", json={}, headers=auth)
    assert (response.status_code, response.json()) == (200, None)
    other = helioscope.auth(other_key)
    response = await client.post("/v1/customer/query", json={}, headers=other)
    assert response.json() == [{"id": "ann", "name": "ann"}, {"id": "zed", "name": "zed"}]
    response = await client.post("/v1/customer/ann/usage/query", json={}, headers=other)
    assert response.json()["cost"] == 1.0


async def test_customer_routes_refuse_bad_bodies(helioscope: Running) -> None:
    auth = helioscope.auth()
    for path in ("/v1/customer/query", "/v1/customer/ann/usage/query"):
        bodies: list[object] = [[], {"surprise": 1}, "text"]
        for body in bodies:
            response = await helioscope.client.post(path, json=body, headers=auth)
            assert response.status_code == 400, (path, body, response.text)
            assert response.json()["data"] is None and "invalid request" in response.json()["error"]


def test_the_schema_check_refuses_what_helicone_would_not_accept() -> None:
    # The validator the family tests rely on: a missing field, a wrong type, an extra field.
    for wrong in ({"id": "ann"}, {"id": "ann", "name": 3}, {"id": "a", "name": "a", "x": 1}):
        with pytest.raises(AssertionError):
            check("Customer", wrong)
    with pytest.raises(AssertionError):
        check("Result_number.string_", {"data": "3", "error": None})
    check("Result_number.string_", {"data": None, "error": "what went wrong"})
