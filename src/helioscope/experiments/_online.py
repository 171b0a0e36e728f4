"""Online evaluators: score incoming logs that match a filter, for a sample of them.

A configuration is ``{"sampleRate": 0..100 (percent, default 100), "filter": <filter tree>,
"propertyFilters": [{"key", "value"}]}``. The log writer tells us about each stored batch; each
row is drawn against the sample rate, checked against the filter (by the store, with the one
filter compiler), and scored in the background. Calls made by evaluators themselves are never
evaluated again (that would loop).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from helioscope.errors import BadRequest, HelioscopeError
from helioscope.experiments._evaluate import EvaluationFailed, Evaluations
from helioscope.store import LogRow, Store, is_transient
from helioscope.store.experiments import evaluators
from helioscope.store.log import requests

logger = logging.getLogger("helioscope.experiments")

_CACHE_SECONDS = 5.0
_EVALUATOR_PROPERTY = "helicone-evaluator"


def check_config(config: dict[str, Any]) -> dict[str, Any]:
    """A 400 unless the configuration's sample rate and property filters are well formed."""
    rate = config.get("sampleRate", 100)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 100:
        raise BadRequest("config.sampleRate must be a number from 0 to 100")
    filters = config.get("propertyFilters", [])
    if not isinstance(filters, list) or not all(
        isinstance(f, dict) and isinstance(f.get("key"), str) and isinstance(f.get("value"), str)
        for f in filters
    ):
        raise BadRequest("config.propertyFilters must be a list of {key, value} strings")
    return config


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A stored call an online evaluator may score: what matching and scoring read of it."""

    organization_id: str
    request_id: str
    properties: dict[str, str]


def _matches_properties(config: dict[str, Any], row: _Candidate) -> bool:
    return all(
        row.properties.get(f["key"]) == f["value"] for f in config.get("propertyFilters", [])
    )


class OnlineEvaluators:
    """Watches the log and schedules evaluations; owns the tasks it starts."""

    def __init__(
        self, store: Store, evaluations: Evaluations, semaphore: asyncio.Semaphore
    ) -> None:
        self.store = store
        self.evaluations = evaluations
        self.limit = semaphore
        self.tasks: set[asyncio.Task[None]] = set()
        self._configs: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self.draw = random.random  # replaced in tests for a deterministic sample
        self._closed = False
        self.on_change: Callable[[], None] | None = None  # tells the other workers

    def forget(self, org_id: str) -> None:
        """Drop the cached configurations of an organization (after a change).

        Here and, through ``on_change``, in the worker whose log writer feeds ``observe``.
        """
        self._configs.pop(org_id, None)
        if self.on_change is not None:
            self.on_change()

    def forget_all(self) -> None:
        """Drop every cached configuration (another worker changed some)."""
        self._configs.clear()

    def observe(self, rows: list[LogRow]) -> None:
        """The writer's hook: schedule the work for a stored batch, return at once."""
        if self._closed:
            # The writer drains its last batches after the experiments close (their runs log
            # through it); work started now would outlive the store it reads.
            return
        # What the work needs of a row, not the row: a batch's bodies (up to the writer's
        # memory budget) would otherwise stay alive until the evaluators' configurations
        # are read (issue 19: four batches of 200 KB bodies were held so at once).
        # Organizations known (freshly) to have no online evaluator: their rows are passed by
        # here, not one by one in ``_consider`` (0.7 us a row on the event loop, for nothing).
        now = time.monotonic()
        idle = {
            org_id
            for org_id, (at, configs) in self._configs.items()
            if not configs and now - at < _CACHE_SECONDS
        }
        candidates = [
            _Candidate(r.organization_id, r.request_id, r.properties or {})
            for r in rows
            if r.organization_id not in idle
            and _EVALUATOR_PROPERTY not in (r.properties or {})
            and r.status > 0
        ]
        if candidates:
            task = asyncio.get_running_loop().create_task(self._consider(candidates))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _configs_of(self, org_id: str) -> list[dict[str, Any]]:
        cached = self._configs.get(org_id)
        if cached is not None and time.monotonic() - cached[0] < _CACHE_SECONDS:
            return cached[1]
        configs = await self.store.org(org_id).read(evaluators.online_for_org)
        self._configs[org_id] = (time.monotonic(), configs)
        return configs

    async def _consider(self, rows: list[_Candidate]) -> None:
        try:
            await self._consider_rows(rows)
        except Exception as exc:
            # A store outage must not surface as a task's unretrieved exception (a traceback
            # in the server's log): these calls go unevaluated, said once a batch. A bug
            # still raises.
            if not is_transient(exc):
                raise
            logger.warning("online evaluators: %d stored calls not evaluated: %r", len(rows), exc)

    async def _consider_rows(self, rows: list[_Candidate]) -> None:
        for row in rows:
            for online in await self._configs_of(row.organization_id):
                config = online["config"] or {}
                if self.draw() * 100 >= float(config.get("sampleRate", 100)):
                    continue
                if not _matches_properties(config, row) or not await self._matches(row, config):
                    continue
                await self._evaluate(row, online)

    async def _matches(self, row: _Candidate, config: dict[str, Any]) -> bool:
        node = config.get("filter") or "all"
        this = {"request_response_rmt": {"request_id": {"equals": row.request_id}}}
        both = this if node == "all" else {"left": node, "operator": "and", "right": this}
        try:
            org = self.store.log.org(row.organization_id)
            return await org.read(requests.count_requests, both, None) > 0
        except HelioscopeError as exc:
            logger.warning("online evaluator %s has a bad filter: %s", config, exc)
            return False

    async def _evaluate(self, row: _Candidate, online: dict[str, Any]) -> None:
        async with self.limit:
            try:
                await self.evaluations.on_request(row.organization_id, online, row.request_id)
            except (EvaluationFailed, HelioscopeError) as exc:
                logger.warning(
                    "online evaluator %s failed on %s: %s", online["name"], row.request_id, exc
                )

    async def close(self) -> None:
        """Wait briefly for evaluations in flight, then cancel the rest; take no new batches."""
        self._closed = True
        if self.tasks:
            _, pending = await asyncio.wait(set(self.tasks), timeout=5)
            for task in pending:
                task.cancel()
