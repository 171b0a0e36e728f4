"""``store.metrics``: dashboard metrics, users and properties, for one engine."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from helioscope.store import _metrics, _properties, _users
from helioscope.store._timeseries import Buckets, TimeWindow
from helioscope.store._users import UserQuery


class MetricsStore:
    """Read-mostly analytics over the request log; every method takes the organization id."""

    def __init__(self, engine: AsyncEngine, writer_engine: AsyncEngine) -> None:
        self._engine = engine
        self._writer = writer_engine

    # Dashboard

    async def totals(self, org_id: str, node: Any, window: TimeWindow | None) -> dict[str, Any]:
        """Every dashboard total over the window."""
        async with self._engine.connect() as conn:
            return await _metrics.totals(conn, org_id, node, window)

    async def over_time(
        self,
        org_id: str,
        node: Any,
        window: TimeWindow,
        buckets: Buckets,
        measures: list[str],
        group_by: str | None = None,
        fill: bool = True,
    ) -> list[dict[str, Any]]:
        """Named measures per time bucket (see ``_metrics.MEASURES``)."""
        async with self._engine.connect() as conn:
            return await _metrics.over_time(
                conn, org_id, node, window, buckets, measures, group_by, fill
            )

    async def quantiles(
        self, org_id: str, node: Any, window: TimeWindow, buckets: Buckets, metric: str
    ) -> list[dict[str, Any]]:
        """p75/p90/p95/p99 of a value per time bucket."""
        async with self._engine.connect() as conn:
            return await _metrics.quantiles(conn, org_id, node, window, buckets, metric)

    async def breakdown(
        self, org_id: str, node: Any, window: TimeWindow, by: str, offset: int, limit: int
    ) -> list[dict[str, Any]]:
        """Totals per model, provider, status or country."""
        async with self._engine.connect() as conn:
            return await _metrics.breakdown(conn, org_id, node, window, by, offset, limit)

    async def scored_rows(
        self, org_id: str, node: Any, window: TimeWindow, buckets: Buckets
    ) -> list[tuple[str, dict[str, Any]]]:
        """(bucket, scores) of the scored requests in the window."""
        async with self._engine.connect() as conn:
            return await _metrics.scored_rows(conn, org_id, node, window, buckets)

    # Users

    async def user_metrics(self, org_id: str, query: UserQuery) -> tuple[list[dict[str, Any]], int]:
        """A page of per-user metrics, and how many users match."""
        async with self._engine.connect() as conn:
            return await _users.user_metrics(conn, org_id, query)

    async def has_users(self, org_id: str) -> bool:
        """True when any request of the organization names a user."""
        async with self._engine.connect() as conn:
            return await _users.has_users(conn, org_id)

    async def user_totals(
        self, org_id: str, user_ids: list[str] | None, window: TimeWindow
    ) -> list[dict[str, Any]]:
        """Requests, tokens and cost per user (``POST /v1/user/query``)."""
        async with self._engine.connect() as conn:
            return await _users.user_totals(conn, org_id, user_ids, window)

    async def per_user_values(self, org_id: str, node: Any) -> list[dict[str, Any]]:
        """Request count and cost of every user, for the overview histograms."""
        async with self._engine.connect() as conn:
            return await _users.per_user_values(conn, org_id, node)

    # Properties

    async def property_keys(self, org_id: str, include_hidden: bool = False) -> list[str]:
        """The property keys the organization has logged (hidden ones left out)."""
        async with self._engine.connect() as conn:
            return await _properties.property_keys(conn, org_id, include_hidden)

    async def hidden_property_keys(self, org_id: str) -> list[str]:
        """The keys the organization hid."""
        async with self._engine.connect() as conn:
            return await _properties.hidden_keys(conn, org_id)

    async def set_property_hidden(self, org_id: str, key: str, hidden: bool) -> None:
        """Hide or restore a property key."""
        async with self._writer.begin() as conn:
            await _properties.set_hidden(conn, org_id, key, hidden)

    async def property_values(self, org_id: str, key: str, term: str) -> list[str]:
        """Up to 25 distinct values of a property containing ``term``."""
        async with self._engine.connect() as conn:
            return await _properties.search_values(conn, org_id, key, term)

    async def property_top(
        self, org_id: str, key: str, window: TimeWindow, by: str
    ) -> tuple[list[dict[str, Any]], float]:
        """The ten values of a property with most cost (or requests), and the overall total."""
        async with self._engine.connect() as conn:
            return await _properties.top_values(conn, org_id, key, window, by)

    async def property_over_time(
        self, org_id: str, key: str, node: Any, window: TimeWindow, buckets: Buckets
    ) -> list[dict[str, Any]]:
        """Cost and requests per value of a property per bucket."""
        async with self._engine.connect() as conn:
            return await _properties.over_time(conn, org_id, key, node, window, buckets)
