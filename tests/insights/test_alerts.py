"""Alerts: thresholds over a window with a minimum request count, cooldown, history, webhook."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from helioscope.store import LogRow
from tests.conftest import Running
from tests.insights.receiver import receiving
from tests.insights.seed import call, data, post, seed
from tests.insights.test_webhooks import add_webhook

# These routes read the log: they run with it in ClickHouse too (tests/conftest.py).
pytestmark = pytest.mark.clickhouse

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
HOUR_MS = 3_600_000


def calls(org_id: str, statuses: list[int], cost: int = 0, at: dt.datetime = NOW) -> list[LogRow]:
    return [
        LogRow(
            request_id=str(uuid.uuid4()),
            organization_id=org_id,
            request_created_at=at - dt.timedelta(minutes=10),
            status=status,
            provider="OPENAI",
            model="gpt-4o-mini",
            cost=cost,
        )
        for status in statuses
    ]


def alert_body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "errors",
        "metric": "response.status",
        "threshold": 50,
        "time_window": HOUR_MS,
        "minimum_request_count": 4,
        "cooldown": 600_000,
        "emails": [],
        "slack_channels": [],
        **overrides,
    }


async def state(hs: Running, key: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = data(await call(hs, "GET", "/v1/alert/query", key=key))
    return result


async def test_error_rate_alert_triggers_cools_down_and_resolves(helioscope: Running) -> None:
    evaluator = helioscope.services.started.alerts
    async with receiving() as receiver:
        webhook_id = await add_webhook(helioscope, receiver)
        alert_id = data(
            await post(helioscope, "/v1/alert/create", alert_body(webhook_id=webhook_id))
        )
        needs_more = data(
            await post(helioscope, "/v1/alert/create", alert_body(minimum_request_count=10))
        )
        other_org, _ = await helioscope.add_org("other")
        await seed(helioscope, calls(other_org, [500] * 20))  # not ours: ignored
        await evaluator.check_once(NOW)
        assert {a["status"] for a in (await state(helioscope))["alerts"]} == {"resolved"}

        await seed(helioscope, calls(helioscope.org_id, [500, 500, 429, 200]))  # 75% of 4
        await evaluator.check_once(NOW)
        current = await state(helioscope)
        statuses = {a["id"]: a["status"] for a in current["alerts"]}
        assert statuses == {alert_id: "triggered", needs_more: "resolved"}
        [fired] = current["history"]
        assert fired["alert_id"] == alert_id and fired["triggered_value"] == 75
        assert fired["requests"] == 4 and fired["alert_end_time"] is None
        [triggered] = await receiver.wait_for(1)
        assert triggered["event"] == "alert.triggered" and triggered["value"] == 75
        assert receiver.bad_signatures == 0

        await seed(helioscope, calls(helioscope.org_id, [200] * 8))  # 3 of 12: 25%
        await evaluator.check_once(NOW)
        await evaluator.check_once(NOW + dt.timedelta(minutes=5))
        current = await state(helioscope)
        assert {a["id"]: a["status"] for a in current["alerts"]}[alert_id] == "triggered"
        await evaluator.check_once(NOW + dt.timedelta(minutes=11))
        current = await state(helioscope)
        assert {a["id"]: a["status"] for a in current["alerts"]}[alert_id] == "resolved"
        [closed] = current["history"]
        assert closed["status"] == "resolved" and closed["alert_end_time"] is not None
        resolved = (await receiver.wait_for(2))[1]
        assert resolved["event"] == "alert.resolved" and resolved["value"] == 25


async def test_going_back_over_restarts_the_cooldown(helioscope: Running) -> None:
    evaluator = helioscope.services.started.alerts
    alert_id = data(await post(helioscope, "/v1/alert/create", alert_body(minimum_request_count=1)))
    await seed(helioscope, calls(helioscope.org_id, [500]))
    await evaluator.check_once(NOW)
    await seed(helioscope, calls(helioscope.org_id, [200, 200, 200]))
    await evaluator.check_once(NOW)  # below: the cooldown starts
    await seed(helioscope, calls(helioscope.org_id, [500, 500, 500]))
    await evaluator.check_once(NOW + dt.timedelta(minutes=4))  # over again: cooldown cancelled
    await seed(helioscope, calls(helioscope.org_id, [200] * 10))
    await evaluator.check_once(NOW + dt.timedelta(minutes=6))  # below again: starts over
    await evaluator.check_once(NOW + dt.timedelta(minutes=12))  # 6 minutes below: not yet
    statuses = {a["id"]: a["status"] for a in (await state(helioscope))["alerts"]}
    assert statuses[alert_id] == "triggered"
    await evaluator.check_once(NOW + dt.timedelta(minutes=16, seconds=1))
    statuses = {a["id"]: a["status"] for a in (await state(helioscope))["alerts"]}
    assert statuses[alert_id] == "resolved"


async def test_cost_alert(helioscope: Running) -> None:
    body = alert_body(name="spend", metric="cost", threshold=0.05, minimum_request_count=0)
    alert_id = data(await post(helioscope, "/v1/alert/create", body))
    await seed(helioscope, calls(helioscope.org_id, [200, 200], cost=20_000_000))  # $0.04
    await helioscope.services.started.alerts.check_once(NOW)
    assert (await state(helioscope))["alerts"][0]["status"] == "resolved"
    await seed(helioscope, calls(helioscope.org_id, [200], cost=20_000_000))  # $0.06
    await helioscope.services.started.alerts.check_once(NOW)
    current = await state(helioscope)
    assert current["alerts"][0]["status"] == "triggered"
    assert current["history"][0]["triggered_value"] == pytest.approx(0.06)
    assert data(await call(helioscope, "DELETE", f"/v1/alert/{alert_id}")) is None
    assert (await state(helioscope))["alerts"] == []
    assert len((await state(helioscope))["history"]) == 1


async def test_alerts_of_another_organization(helioscope: Running) -> None:
    alert_id = data(await post(helioscope, "/v1/alert/create", alert_body()))
    _, other_key = await helioscope.add_org("other")
    assert await state(helioscope, other_key) == {"alerts": [], "history": []}
    deleted = await call(helioscope, "DELETE", f"/v1/alert/{alert_id}", key=other_key)
    assert deleted.status_code == 404
    async with receiving() as receiver:
        theirs = data(
            await post(helioscope, "/v1/webhooks", {"destination": receiver.url}, other_key)
        )["id"]
    stolen = await post(helioscope, "/v1/alert/create", alert_body(webhook_id=theirs))
    assert stolen.status_code == 404 and "webhook_id" in stolen.json()["error"]


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"metric": "latency"}, "metric"),
        ({"time_window": 10}, "time_window"),
        ({"threshold": -1}, "threshold"),
        ({"name": ""}, "name"),
    ],
)
async def test_bad_alerts_are_400_naming_the_field(
    helioscope: Running, overrides: dict[str, Any], named: str
) -> None:
    response = await post(helioscope, "/v1/alert/create", alert_body(**overrides))
    assert response.status_code == 400, response.text
    assert response.json()["data"] is None and named in response.json()["error"]
