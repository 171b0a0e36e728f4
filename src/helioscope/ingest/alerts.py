"""Alerts: error-rate and cost thresholds over a sliding window, checked periodically.

An alert triggers when its metric reaches the threshold over ``time_window`` with at least
``minimum_request_count`` requests; it resolves once the metric has stayed below for
``cooldown`` ms. Each firing is a history row; both transitions are POSTed to the alert's
webhook, signed like every webhook body, and to its Slack channels (``ingest.slack``). The same
periodic check sends the Slack reports that are due.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from helioscope._guard import InternalErrorGuard
from helioscope.ingest.slack import notify_alert, send_due_reports
from helioscope.ingest.webhooks import WebhookDispatcher
from helioscope.store import Store, notifications
from helioscope.store.log import metrics

logger = logging.getLogger("helioscope.alerts")

ERROR_RATE = "response.status"


def metric_value(metric: str, stats: dict[str, float]) -> float:
    """The error rate in percent, or the cost in USD, of a window's stats."""
    if metric == ERROR_RATE:
        return 100.0 * stats["errors"] / stats["requests"] if stats["requests"] else 0.0
    return float(stats["cost"])


class AlertEvaluator:
    """Checks every live alert every ``interval`` seconds; use as ``async with``."""

    def __init__(
        self,
        store: Store,
        webhooks: WebhookDispatcher,
        guard: InternalErrorGuard,
        *,
        interval: float = 60.0,
    ) -> None:
        self.store = store
        self.webhooks = webhooks
        self.guard = guard
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> AlertEvaluator:
        if self.interval > 0:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check_once()
            except Exception as exc:  # the store is down: try again next round
                logger.warning("could not check alerts: %r", exc)

    async def check_once(self, now: dt.datetime | None = None) -> None:
        """Evaluate every live alert at ``now`` (default: the current time)."""
        now = now or dt.datetime.now(dt.UTC)
        for current in await self.store.read(notifications.all_alerts):
            with self.guard.internal_errors(f"checking alert {current['id']}"):
                await self._check(current, now)
        with self.guard.internal_errors("sending Slack reports"):
            await send_due_reports(self.store, self.webhooks, now)

    async def _check(self, current: dict[str, Any], now: dt.datetime) -> None:
        since = now - dt.timedelta(milliseconds=current["time_window"])
        org = self.store.log.org(current["organization_id"])
        stats = await org.read(metrics.window_stats, since, now)
        value = metric_value(current["metric"], stats)
        over = value >= current["threshold"] and (
            stats["requests"] >= current["minimum_request_count"]
        )
        if current["status"] != "triggered":
            if over:
                await self.store.write(
                    notifications.trigger_alert, current, value, stats["requests"], now
                )
                await self._notify(current, "alert.triggered", value, stats, now)
            return
        if over:
            if current["below_since"] is not None:  # back above: the cooldown starts over
                await self.store.write(notifications.set_below_since, current["id"], None)
            return
        below_since = current["below_since"] or now
        if current["below_since"] is None:
            await self.store.write(notifications.set_below_since, current["id"], now)
        if now - below_since >= dt.timedelta(milliseconds=current["cooldown"]):
            await self.store.write(notifications.resolve_alert, current, now)
            await self._notify(current, "alert.resolved", value, stats, now)

    async def _notify(
        self,
        current: dict[str, Any],
        event: str,
        value: float,
        stats: dict[str, int],
        at: dt.datetime,
    ) -> None:
        await notify_alert(self.store, self.webhooks, current, event, value, stats["requests"])
        if not current["webhook_id"]:
            return
        hooks = await self.store.org(current["organization_id"]).read(notifications.list_webhooks)
        for hook in hooks:
            if hook["id"] == current["webhook_id"]:
                self.webhooks.send(
                    hook,
                    {
                        "event": event,
                        "alert_id": current["id"],
                        "alert_name": current["name"],
                        "metric": current["metric"],
                        "threshold": current["threshold"],
                        "value": value,
                        "requests": stats["requests"],
                        "time_window_ms": current["time_window"],
                        "timestamp": at.isoformat(),
                    },
                )
