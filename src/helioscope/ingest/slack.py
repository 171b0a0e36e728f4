"""Slack as a destination: alerts and periodic reports, posted to incoming-webhook URLs.

An organization's ``slack`` integration (``/v1/integration``) names its channels, each with the
incoming-webhook URL Slack gave for it, and optionally a report::

    {"channels": [{"id": "C01", "name": "#alerts", "webhook_url": "https://hooks.slack.com/..."}],
     "report": {"channel_ids": ["C01"], "interval_hours": 168}}

An alert whose ``slack_channels`` lists a channel id posts Slack's ``{"text": ...}`` message there
when it triggers and when it resolves. A report is a summary of the organization's log since the
last one (requests, errors, cost, tokens, busiest models), sent when ``interval_hours`` have
passed (the first at the first check after the report is set up). Reports are checked with the
alerts (``HELIOSCOPE_ALERT_CHECK_SECONDS``; 0 turns both off). Both go out through the webhook
dispatcher's outbound path (checks, retries, drain), unsigned: Slack checks no signature.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from helioscope.ingest.webhooks import WebhookDispatcher
from helioscope.store import Store, integrations
from helioscope.store.log import metrics
from helioscope.store.log.timeseries import TimeWindow

logger = logging.getLogger("helioscope.slack")

SLACK = "slack"
DEFAULT_REPORT_HOURS = 168  # weekly, as Helicone's reports


def channels(settings: Any) -> dict[str, str]:
    """Channel id -> incoming-webhook URL, from a slack integration's settings."""
    found: dict[str, str] = {}
    if isinstance(settings, dict):
        for channel in settings.get("channels") or []:
            if isinstance(channel, dict) and channel.get("id") and channel.get("webhook_url"):
                found[str(channel["id"])] = str(channel["webhook_url"])
    return found


def alert_text(current: dict[str, Any], event: str, value: float, requests: int) -> str:
    """The Slack message for an alert that triggered or resolved."""
    unit = "%" if current["metric"] == "response.status" else " USD"
    what = "error rate" if current["metric"] == "response.status" else "cost"
    state = "triggered" if event == "alert.triggered" else "resolved"
    minutes = round(current["time_window"] / 60_000)
    return (
        f"Helioscope alert *{current['name']}* {state}: {what} {value:.4g}{unit} over the last "
        f"{minutes} min ({requests} requests; threshold {current['threshold']:g}{unit})."
    )


async def notify_alert(
    store: Store,
    webhooks: WebhookDispatcher,
    current: dict[str, Any],
    event: str,
    value: float,
    requests: int,
) -> None:
    """Post an alert's message to each of its Slack channels the organization has set up."""
    wanted = [str(c) for c in current.get("slack_channels") or []]
    if not wanted:
        return
    org = store.org(current["organization_id"])
    slack = await org.read(integrations.integration_by_name, SLACK)
    if slack is None or not slack["active"]:
        logger.warning("alert %s names Slack channels, but Slack is not set up", current["id"])
        return
    urls = channels(slack["settings"])
    text = alert_text(current, event, value, requests)
    for channel in wanted:
        if channel in urls:
            webhooks.post(f"slack:{channel}", urls[channel], {"text": text})
        else:
            logger.warning("alert %s: no Slack channel %r is set up", current["id"], channel)


def _report(settings: Any) -> tuple[list[str], float] | None:
    report = settings.get("report") if isinstance(settings, dict) else None
    if not isinstance(report, dict) or not report.get("channel_ids"):
        return None
    hours = report.get("interval_hours", DEFAULT_REPORT_HOURS)
    return [str(c) for c in report["channel_ids"]], float(hours)


def report_text(totals: dict[str, Any], models: list[dict[str, Any]], hours: float) -> str:
    """The Slack message summarising a period of the log."""
    requests = totals["requests"]
    rate = 100.0 * totals["errors"] / requests if requests else 0.0
    tokens = totals["prompt_tokens"] + totals["completion_tokens"]
    lines = [
        f"Helioscope report for the last {hours:g} hours: {requests} requests, "
        f"{totals['errors']} errors ({rate:.1f}%), {totals['cost']:.4f} USD, {tokens} tokens, "
        f"{totals['users']} users."
    ]
    if models:
        busiest = ", ".join(f"{m['key']} ({m['total_requests']})" for m in models)
        lines.append(f"Busiest models: {busiest}.")
    return "\n".join(lines)


async def send_due_reports(store: Store, webhooks: WebhookDispatcher, now: dt.datetime) -> int:
    """Send every active Slack integration's report that is due; return how many were sent."""
    sent = 0
    for slack in await store.read(integrations.active_integrations, SLACK):
        report = _report(slack["settings"])
        if report is None:
            continue
        channel_ids, hours = report
        last = slack["report_sent_at"]
        if last is not None and now - last < dt.timedelta(hours=hours):
            continue
        window = TimeWindow(now - dt.timedelta(hours=hours), now)
        log = store.log.org(slack["organization_id"])
        totals = await log.read(metrics.totals, "all", window)
        models = await log.read(metrics.breakdown, "all", window, "model", 0, 3)
        text = report_text(totals, models, hours)
        urls = channels(slack["settings"])
        for channel in channel_ids:
            if channel in urls:
                webhooks.post(f"slack:{channel}", urls[channel], {"text": text})
        await store.write(integrations.mark_report_sent, slack["id"], now)
        sent += 1
    return sent
