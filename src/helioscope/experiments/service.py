"""``ExperimentService``: the experiments machinery of one running Helioscope."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import aiohttp

from helioscope.experiments._evaluate import Evaluations
from helioscope.experiments._gateway import SelfGateway
from helioscope.experiments._online import OnlineEvaluators
from helioscope.experiments._runner import Cell, Runner
from helioscope.experiments.sandbox import SandboxLimits
from helioscope.ingest import LogWriter
from helioscope.store import Store

logger = logging.getLogger("helioscope.experiments")


class ExperimentService:
    """Runs cells and evaluators through the gateway; built and closed by ``Services``."""

    def __init__(
        self,
        store: Store,
        writer: LogWriter,
        session: aiohttp.ClientSession,
        *,
        self_url: str | None,
        provider_keys: Mapping[str, str],
        concurrency: int,
        limits: SandboxLimits,
        judge_model: str,
    ) -> None:
        self.store = store
        self.gateway = SelfGateway(store, session, provider_keys)
        self.gateway.base_url = self_url
        self.evaluations = Evaluations(store, self.gateway, limits, judge_model)
        self.runner = Runner(store, writer, self.gateway, self.evaluations, concurrency)
        self.online = OnlineEvaluators(store, self.evaluations, self.runner.limit)
        writer.listeners.append(self.online.observe)
        self._background: set[asyncio.Task[None]] = set()
        self._runs: dict[str, asyncio.Task[None]] = {}

    def learn_address(self, server: tuple[str, int] | None) -> None:
        """Remember the socket a request came in on, when no URL was configured.

        The address is the local socket's (from the ASGI scope), never a Host header, so a
        client cannot redirect these calls, and the provider key with them, elsewhere.
        """
        if self.gateway.base_url is None and server is not None:
            host, port = server
            host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
            host = f"[{host}]" if ":" in host else host  # an IPv6 address
            self.gateway.base_url = f"http://{host}:{port}"

    async def run_hypothesis(
        self, org_id: str, experiment_id: str, record_id: str, version_id: str
    ) -> str:
        """Run one cell now; returns the request id of its call."""
        async with self.gateway.key_for(org_id) as key:
            request_id = await self.runner.run_cell(
                org_id, experiment_id, (record_id, version_id), key
            )
        await self.runner.writer.flush()
        return request_id

    def start_run(self, org_id: str, experiment_id: str, cells: Iterable[Cell]) -> None:
        """Run cells in the background (progress: the cells' statuses)."""
        task = asyncio.get_running_loop().create_task(
            self._run_logged(org_id, experiment_id, list(cells))
        )
        self._runs[experiment_id] = task
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _run_logged(self, org_id: str, experiment_id: str, cells: list[Cell]) -> None:
        # Nobody awaits a background run: its failure is reported here, not lost.
        try:
            await self.runner.run_cells(org_id, experiment_id, cells)
        except Exception:
            logger.exception("experiment %s: the run stopped", experiment_id)

    def is_running(self, experiment_id: str) -> bool:
        """True while a background run of the experiment is going on."""
        task = self._runs.get(experiment_id)
        return task is not None and not task.done()

    async def wait(self, experiment_id: str) -> None:
        """Wait for the experiment's background run, if any."""
        task = self._runs.get(experiment_id)
        if task is not None:
            await asyncio.shield(task)

    async def run_evaluators(self, org_id: str, experiment_id: str) -> None:
        """Score every unscored output of the experiment with its evaluators."""
        await self.runner.run_evaluators(org_id, experiment_id)

    def status(self, experiment_id: str) -> dict[str, Any]:
        """In-process state of the experiment's runs."""
        return {
            "running": self.is_running(experiment_id),
            "evaluatorErrors": self.runner.evaluator_errors.get(experiment_id, []),
        }

    async def close(self) -> None:
        """Cancel background runs and wait for online evaluations briefly."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.online.close()
