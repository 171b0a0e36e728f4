"""Running an experiment's cells, then its evaluators on the outputs.

A cell is one prompt version compiled with one row's inputs, sent through the gateway; the
logged request is linked to the cell.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from helioscope.errors import BadRequest, HelioscopeError
from helioscope.experiments._evaluate import (
    BOOL_SUFFIX,
    EvaluationFailed,
    Evaluations,
    score_key,
)
from helioscope.experiments._gateway import SelfGateway
from helioscope.ingest import LogWriter
from helioscope.prompts import fill_legacy_template
from helioscope.store import Store
from helioscope.store.experiments import evaluators, experiments
from helioscope.store.log import scores
from helioscope.store.prompts import legacy_prompts

logger = logging.getLogger("helioscope.experiments")

Cell = tuple[str, str]  # (input record id, prompt version id)


def compile_version(template: Any, model: str, row: dict[str, Any]) -> dict[str, Any]:
    """A prompt version's template filled with a row's inputs: the body to send."""
    body = fill_legacy_template(template, row["inputs"] or {}, row["auto_prompt_inputs"] or [])
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise BadRequest("the prompt version's template is not a chat body with messages")
    body = dict(body)
    if not body.get("model"):
        body["model"] = model
    body.pop("stream", None)  # the cell keeps the whole answer
    return body


class Runner:
    """Runs cells and evaluators with at most ``concurrency`` calls in flight."""

    def __init__(
        self,
        store: Store,
        writer: LogWriter,
        gateway: SelfGateway,
        evaluations: Evaluations,
        concurrency: int,
    ) -> None:
        self.store = store
        self.writer = writer
        self.gateway = gateway
        self.evaluations = evaluations
        self.limit = asyncio.Semaphore(concurrency)
        # Errors of the last evaluator run of each experiment, for its run status.
        self.evaluator_errors: dict[str, list[str]] = {}

    async def run_cell(self, org_id: str, experiment_id: str, cell: Cell, key: str) -> str:
        """Run one cell; returns the request id of its call (also when it failed upstream).

        A provider error marks the cell failed with the error text; the row stays.
        """
        record_id, version_id = cell
        org = self.store.org(org_id)
        row = await org.read(experiments.experiment_row, experiment_id, record_id)
        version = await self.store.prompts.org(org_id).read(
            legacy_prompts.must_get_version, version_id
        )
        body = compile_version(version.helicone_template, version.model, row)
        await org.write(
            experiments.set_cell,
            experiment_id,
            record_id,
            version_id,
            status="running",
            is_original=False,
        )
        headers = {
            "helicone-experiment-id": experiment_id,
            "helicone-property-helicone-experiment-row-id": record_id,
            "helicone-property-helicone-experiment-prompt-version": version_id,
        }
        provider = await self.provider_of(org_id, version)
        async with self.limit:
            reply = await self.gateway.chat(key, body, headers, provider=provider)
        status = "failed" if reply.error else "success"
        await org.write(
            experiments.set_cell,
            experiment_id,
            record_id,
            version_id,
            status=status,
            request_id=reply.request_id,
            error=reply.error,
        )
        return reply.request_id

    async def provider_of(self, org_id: str, version: Any) -> str | None:
        """The provider a version's cells go to: the version's own, else its prompt's.

        A prompt made from an Anthropic request records ``provider``; its experiment copies and
        every hypothesis are versions of that prompt, so Claude never runs on the OpenAI route.
        """
        provider = version.metadata.get("provider")
        if not provider:
            prompt = await self.store.prompts.org(org_id).read(
                legacy_prompts.find_prompt, version.prompt_id
            )
            provider = prompt.metadata.get("provider")
        return str(provider) if provider else None

    async def run_cells(self, org_id: str, experiment_id: str, cells: Iterable[Cell]) -> None:
        """Run many cells concurrently (bounded), under one temporary key."""
        todo = list(cells)
        for record_id, version_id in todo:  # all pending first, so progress counts them
            await self.store.org(org_id).write(
                experiments.set_cell, experiment_id, record_id, version_id, status="pending"
            )
        async with self.gateway.key_for(org_id) as key:
            results = await asyncio.gather(
                *(self.run_cell(org_id, experiment_id, c, key) for c in todo),
                return_exceptions=True,
            )
        for (record_id, version_id), result in zip(todo, results, strict=True):
            if isinstance(result, BaseException):
                message = result.message if isinstance(result, HelioscopeError) else repr(result)
                await self.store.org(org_id).write(
                    experiments.set_cell,
                    experiment_id,
                    record_id,
                    version_id,
                    status="failed",
                    error=message,
                )
        await self.writer.flush()  # the outputs are in the log before anyone scores them

    async def unscored(self, org_id: str, experiment_id: str) -> list[tuple[dict[str, Any], Any]]:
        """(evaluator, output cell) pairs whose score is not stored yet."""
        attached = await self.store.org(org_id).read(evaluators.for_experiment, experiment_id)
        outputs = [
            c
            for c in await self.store.org(org_id).read(experiments.cells, experiment_id)
            if c["request_id"] and c["status"] == "success"
        ]
        stored = await self.store.log.org(org_id).read(
            scores.for_requests, [c["request_id"] for c in outputs]
        )
        todo = []
        for evaluator in attached:
            key = score_key(evaluator["name"], False)
            for cell in outputs:
                have = stored.get(cell["request_id"], {})
                if key not in have and key + BOOL_SUFFIX not in have:
                    todo.append((evaluator, cell))
        return todo

    async def run_evaluators(self, org_id: str, experiment_id: str) -> None:
        """Score every output that lacks an evaluator's score; errors go to the run status."""
        await self.writer.flush()
        todo = await self.unscored(org_id, experiment_id)
        rows = {
            r["id"]: r
            for r in await self.store.org(org_id).read(experiments.experiment_rows, experiment_id)
        }
        errors: list[str] = []

        async def one(evaluator: dict[str, Any], cell: dict[str, Any], key: str) -> None:
            inputs = (rows.get(cell["input_record_id"]) or {}).get("inputs") or {}
            async with self.limit:
                try:
                    await self.evaluations.on_request(
                        org_id, evaluator, cell["request_id"], inputs, key
                    )
                except (EvaluationFailed, HelioscopeError) as exc:
                    errors.append(f"{evaluator['name']} on {cell['request_id']}: {exc}")

        async with self.gateway.key_for(org_id) as key:
            await asyncio.gather(*(one(e, c, key) for e, c in todo))
        self.evaluator_errors[experiment_id] = errors
        await self.writer.flush()  # judge calls are logged too
