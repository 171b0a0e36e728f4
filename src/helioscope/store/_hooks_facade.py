"""``store.hooks``: webhooks and alerts, for one engine."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from helioscope.store import _hooks


class HooksStore:
    """Webhook and alert definitions, alert state and history."""

    def __init__(self, engine: AsyncEngine, writer_engine: AsyncEngine) -> None:
        self._engine = engine
        self._writer = writer_engine

    async def create_webhook(
        self, org_id: str, destination: str, config: dict[str, Any]
    ) -> dict[str, Any]:
        """Create a webhook with a fresh signing key."""
        async with self._writer.begin() as conn:
            return await _hooks.create_webhook(conn, org_id, destination, config)

    async def list_webhooks(self, org_id: str | None) -> list[dict[str, Any]]:
        """An organization's webhooks; None lists every organization's."""
        async with self._engine.connect() as conn:
            return await _hooks.list_webhooks(conn, org_id)

    async def delete_webhook(self, org_id: str, webhook_id: str) -> bool:
        """Delete a webhook; False when the organization has none with that id."""
        async with self._writer.begin() as conn:
            return await _hooks.delete_webhook(conn, org_id, webhook_id)

    async def create_alert(self, org_id: str, values: dict[str, Any]) -> str:
        """Create an alert; returns its id."""
        async with self._writer.begin() as conn:
            return await _hooks.create_alert(conn, org_id, values)

    async def list_alerts(self, org_id: str | None) -> list[dict[str, Any]]:
        """An organization's live alerts; None lists every organization's."""
        async with self._engine.connect() as conn:
            return await _hooks.list_alerts(conn, org_id)

    async def delete_alert(self, org_id: str, alert_id: str) -> bool:
        """Delete an alert; False when the organization has none with that id."""
        async with self._writer.begin() as conn:
            return await _hooks.delete_alert(conn, org_id, alert_id)

    async def alert_history(self, org_id: str) -> list[dict[str, Any]]:
        """An organization's alert history, newest first."""
        async with self._engine.connect() as conn:
            return await _hooks.alert_history_rows(conn, org_id)

    async def window_stats(
        self, org_id: str, since: dt.datetime, until: dt.datetime
    ) -> dict[str, int]:
        """Requests, errors and cost of an organization in a window."""
        async with self._engine.connect() as conn:
            return await _hooks.window_stats(conn, org_id, since, until)

    async def trigger_alert(
        self, current: dict[str, Any], value: float, requests: int, at: dt.datetime
    ) -> None:
        """Mark an alert triggered and record it in the history."""
        async with self._writer.begin() as conn:
            await _hooks.trigger_alert(conn, current, value, requests, at)

    async def set_below_since(self, alert_id: str, since: dt.datetime | None) -> None:
        """Start or cancel a triggered alert's cooldown."""
        async with self._writer.begin() as conn:
            await _hooks.set_below_since(conn, alert_id, since)

    async def resolve_alert(self, current: dict[str, Any], at: dt.datetime) -> None:
        """Mark an alert resolved and close its history row."""
        async with self._writer.begin() as conn:
            await _hooks.resolve_alert(conn, current, at)
