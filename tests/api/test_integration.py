"""``Integration``: integrations per organization, and Slack as an alert and report destination.

Slack is a local receiver standing in for Slack's incoming webhooks: it records each JSON body,
as Slack's endpoint takes ``{"text": ...}``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from aiohttp import web

from helioscope import Settings
from tests.api.families import check, log_row
from tests.running import Running

# These routes read the log: they run with it in ClickHouse too (tests/conftest.py).
pytestmark = pytest.mark.clickhouse


@pytest.fixture
def settings(settings: Settings) -> Settings:
    update = {
        "webhook_allow_http_loopback": True,
        # The local Slack listens on loopback, which the egress policy refuses by default.
        "allowed_private_targets": "http://127.0.0.1:*",
        "webhook_retry_seconds": 0.05,
        "alert_check_seconds": 0,
    }
    return settings.model_copy(update=update)


class Slack:
    """Records the messages posted to each channel's webhook path."""

    def __init__(self) -> None:
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.headers: list[dict[str, str]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.messages.setdefault(request.match_info["channel"], []).append(
            orjson.loads(await request.read())
        )
        self.headers.append(dict(request.headers))
        return web.Response(text="ok")

    async def wait_for(self, channel: str, count: int) -> list[dict[str, Any]]:
        for _ in range(500):
            if len(self.messages.get(channel, [])) >= count:
                return self.messages[channel]
            await asyncio.sleep(0.02)
        raise AssertionError(f"{channel}: {self.messages}")


@pytest.fixture
async def slack() -> AsyncIterator[Slack]:
    receiver = Slack()
    app = web.Application()
    app.router.add_post("/services/{channel}", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/services"
    yield receiver
    await runner.cleanup()


async def _call(
    hs: Running, method: str, path: str, body: Any = None, key: str | None = None
) -> Any:
    response = await hs.client.request(method, path, json=body, headers=hs.auth(key))
    return response


def _settings(slack: Slack, report: dict[str, Any] | None = None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "channels": [
            {"id": "C1", "name": "#alerts", "webhook_url": f"{slack.url}/C1"},
            {"id": "C2", "name": "#reports", "webhook_url": f"{slack.url}/C2"},
        ]
    }
    if report is not None:
        settings["report"] = report
    return settings


async def test_integrations_are_stored_per_organization(helioscope: Running, slack: Slack) -> None:
    _, other_key = await helioscope.add_org("other")
    create = {"integration_name": "slack", "settings": _settings(slack)}
    response = await _call(helioscope, "POST", "/v1/integration", create)
    assert response.status_code == 200, response.text
    check("Result__id-string_.string_", response.json())
    slack_id = response.json()["data"]["id"]
    custom = {"integration_name": "notion", "settings": {"page": "x"}, "active": False}
    notion_id = (await _call(helioscope, "POST", "/v1/integration", custom)).json()["data"]["id"]

    listed = (await _call(helioscope, "GET", "/v1/integration")).json()
    check("Result_Array_Integration_.string_", listed)
    assert [(i["id"], i["integration_name"], i["active"]) for i in listed["data"]] == [
        (slack_id, "slack", True),
        (notion_id, "notion", False),
    ]
    one = (await _call(helioscope, "GET", f"/v1/integration/{notion_id}")).json()
    check("Result_Integration.string_", one)
    assert one["data"]["settings"] == {"page": "x"}
    by_type = (await _call(helioscope, "GET", "/v1/integration/type/slack")).json()
    check("Result_Integration.string_", by_type)
    settings = (await _call(helioscope, "GET", "/v1/integration/slack/settings")).json()
    assert settings == by_type and settings["data"]["settings"]["channels"][0]["id"] == "C1"
    channels = (await _call(helioscope, "GET", "/v1/integration/slack/channels")).json()
    check("Result_Array__id-string--name-string__.string_", channels)
    assert channels["data"] == [{"id": "C1", "name": "#alerts"}, {"id": "C2", "name": "#reports"}]

    update = {"active": True, "settings": {"page": "y"}}
    response = await _call(helioscope, "POST", f"/v1/integration/{notion_id}", update)
    assert (response.status_code, response.json()) == (200, {"data": None, "error": None})
    check("Result_null.string_", response.json())
    one = (await _call(helioscope, "GET", f"/v1/integration/{notion_id}")).json()["data"]
    assert (one["active"], one["settings"]) == (True, {"page": "y"})

    # Another organization sees none of it and changes none of it.
    assert (await _call(helioscope, "GET", "/v1/integration", key=other_key)).json()["data"] == []
    for method, path, body in [
        ("GET", f"/v1/integration/{slack_id}", None),
        ("GET", "/v1/integration/type/slack", None),
        ("GET", "/v1/integration/slack/settings", None),
        ("POST", f"/v1/integration/{slack_id}", {"active": False}),
    ]:
        response = await _call(helioscope, method, path, body, key=other_key)
        assert response.status_code == 404, (path, response.text)
    other_channels = await _call(helioscope, "GET", "/v1/integration/slack/channels", key=other_key)
    assert other_channels.json()["data"] == []
    assert (await _call(helioscope, "GET", f"/v1/integration/{slack_id}")).json()["data"]["active"]


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({}, "integration_name"),
        ({"integration_name": ""}, "integration_name"),
        ({"integration_name": "slack", "settings": {"channels": [{"id": "C1"}]}}, "channels"),
        (
            {
                "integration_name": "slack",
                "settings": {
                    "channels": [{"id": "C1", "name": "a", "webhook_url": "http://example.com/x"}]
                },
            },
            "webhook_url",
        ),
        (
            {
                "integration_name": "slack",
                "settings": {"channels": [], "report": {"channel_ids": ["C9"]}},
            },
            "report.channel_ids",
        ),
        ({"integration_name": "slack", "settings": "not an object"}, "settings"),
        ({"integration_name": "x", "surprise": 1}, "surprise"),
    ],
)
@pytest.mark.asyncio(loop_scope="module")
async def test_bad_bodies_are_refused_and_write_nothing(
    own_org: Running, body: dict[str, Any], names: str
) -> None:
    # Refusals: on the module's shared app, in an organization of the test's own, which must
    # still have no integration afterwards (an app per case cost 21 cases a store each).
    response = await _call(own_org, "POST", "/v1/integration", body)
    assert response.status_code == 400, response.text
    assert response.json()["data"] is None and names in response.json()["error"]
    assert (await _call(own_org, "GET", "/v1/integration")).json()["data"] == []


async def test_one_integration_of_each_name(helioscope: Running) -> None:
    body = {"integration_name": "notion"}
    first = (await _call(helioscope, "POST", "/v1/integration", body)).json()["data"]["id"]
    again = await _call(helioscope, "POST", "/v1/integration", body)
    assert again.status_code == 400 and "already" in again.json()["error"]
    other = (await _call(helioscope, "POST", "/v1/integration", {"integration_name": "x"})).json()
    rename = await _call(helioscope, "POST", f"/v1/integration/{other['data']['id']}", body)
    assert rename.status_code == 400 and "already" in rename.json()["error"]
    missing = await _call(helioscope, "GET", "/v1/integration/type/linear")
    assert missing.status_code == 404
    assert (await _call(helioscope, "GET", f"/v1/integration/{first}")).status_code == 200


async def test_an_alert_posts_to_its_slack_channels(helioscope: Running, slack: Slack) -> None:
    create = {"integration_name": "slack", "settings": _settings(slack)}
    assert (await _call(helioscope, "POST", "/v1/integration", create)).status_code == 200
    alert = {
        "name": "errors",
        "metric": "response.status",
        "threshold": 50,
        "time_window": 600_000,
        "minimum_request_count": 2,
        "cooldown": 60_000,
        "slack_channels": ["C1", "C404"],
    }
    response = await _call(helioscope, "POST", "/v1/alert/create", alert)
    assert response.status_code == 200, response.text
    now = dt.datetime.now(dt.UTC)
    org = helioscope.org_id
    await helioscope.services.store.log.write_batch(
        [log_row(org, now - dt.timedelta(seconds=5), status=s) for s in (500, 500, 200)]
    )
    alerts = helioscope.services.started.alerts
    await alerts.check_once(now)
    [message] = await slack.wait_for("C1", 1)
    assert message["text"].startswith("Helioscope alert *errors* triggered: error rate 66.67%")
    assert "3 requests" in message["text"]
    assert "helicone-signature" not in {k.lower() for k in slack.headers[0]}
    # Resolved once below the threshold for the cooldown: a second message.
    later = now + dt.timedelta(minutes=20)
    await alerts.check_once(later)
    await alerts.check_once(later + dt.timedelta(minutes=2))
    messages = await slack.wait_for("C1", 2)
    assert "resolved" in messages[1]["text"]
    assert "C2" not in slack.messages


async def test_slack_reports_go_out_when_due(helioscope: Running, slack: Slack) -> None:
    report = {"channel_ids": ["C2"], "interval_hours": 24}
    create = {"integration_name": "slack", "settings": _settings(slack, report)}
    integration_id = (await _call(helioscope, "POST", "/v1/integration", create)).json()["data"]
    now = dt.datetime.now(dt.UTC)
    org = helioscope.org_id
    await helioscope.services.store.log.write_batch(
        [
            log_row(org, now - dt.timedelta(hours=1), cost=2 * 10**9, user_id="ann"),
            log_row(org, now - dt.timedelta(hours=2), status=500, model="gpt-4o"),
            log_row(org, now - dt.timedelta(hours=30)),  # before the report's period
        ]
    )
    alerts = helioscope.services.started.alerts
    await alerts.check_once(now)
    [message] = await slack.wait_for("C2", 1)
    assert message["text"].startswith(
        "Helioscope report for the last 24 hours: 2 requests, 1 errors (50.0%), 2.0000 USD, "
        "30 tokens, 1 users."
    )
    assert "Busiest models: gpt-4o (1), gpt-4o-mini (1)." in message["text"]
    await alerts.check_once(now + dt.timedelta(hours=23))  # not due yet
    await alerts.check_once(now + dt.timedelta(hours=25))
    messages = await slack.wait_for("C2", 2)
    assert len(messages) == 2 and messages[1]["text"].startswith(
        "Helioscope report for the last 24 hours: 0 requests"
    )
    # Switched off: no more reports.
    off = {"active": False}
    await _call(helioscope, "POST", f"/v1/integration/{integration_id['id']}", off)
    await alerts.check_once(now + dt.timedelta(hours=60))
    await helioscope.services.started.webhooks.idle()
    assert len(slack.messages["C2"]) == 2
