"""``POST /v1/experiment/query``: experiments in the older API's shape.

``include`` adds inputs, prompt templates, response bodies and scores.

Its filter names the ``experiment`` table's ``id`` and ``prompt_v2`` (the prompt of the
original version); it is matched here, over the organization's experiments only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from helioscope.api._request_shape import _body, iso
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.errors import InvalidFilter
from helioscope.store import Store
from helioscope.store.experiments import datasets, experiment_tables, experiments
from helioscope.store.log import requests, scores
from helioscope.store.prompts import legacy_prompts

router = APIRouter(prefix="/v1/experiment", tags=["Experiment"], responses=ERROR_RESPONSES)

_TEXT_OPS: dict[str, Callable[[str, str], bool]] = {
    "equals": lambda a, b: a == b,
    "not-equals": lambda a, b: a != b,
    "contains": lambda a, b: b in a,
    "not-contains": lambda a, b: b not in a,
    "like": lambda a, b: a == b.replace("%", ""),
    "ilike": lambda a, b: a.lower() == b.replace("%", "").lower(),
}


class IncludeExperimentKeys(BaseModel):
    """What to put in each experiment beyond its hypotheses."""

    inputs: bool = False
    promptVersion: bool = False
    responseBodies: bool = False
    score: bool = False


class ExperimentsQuery(BaseModel):
    """Body of ``POST /v1/experiment/query``."""

    filter: Any
    include: IncludeExperimentKeys | None = None


def matches(node: Any, fields: dict[str, str], path: str = "filter") -> bool:
    """Whether an experiment's fields satisfy a filter tree over ``experiment``."""
    if node == "all":
        return True
    if not isinstance(node, dict):
        raise InvalidFilter(f"{path}: expected 'all', a leaf or a branch")
    if "operator" in node:
        left = matches(node.get("left"), fields, f"{path}.left")
        right = matches(node.get("right"), fields, f"{path}.right")
        if node["operator"] not in ("and", "or"):
            raise InvalidFilter(f"{path}.operator: expected 'and' or 'or'")
        return left and right if node["operator"] == "and" else left or right
    leaf = node.get("experiment")
    if len(node) != 1 or not isinstance(leaf, dict) or len(leaf) != 1:
        raise InvalidFilter(f"{path}: expected {{experiment: {{id | prompt_v2: {{op: value}}}}}}")
    ((column, ops),) = leaf.items()
    if column not in fields or not isinstance(ops, dict) or len(ops) != 1:
        raise InvalidFilter(f"{path}.experiment.{column}: unknown column or malformed operator")
    ((op, value),) = ops.items()
    if op not in _TEXT_OPS or not isinstance(value, str):
        raise InvalidFilter(f"{path}.experiment.{column}.{op}: unknown operator or non-text value")
    return bool(_TEXT_OPS[op](fields[column], value))


async def _prompt_of(store: Store, org_id: str, version_id: str | None) -> str:
    version = (
        await store.prompts.org(org_id).read(legacy_prompts.get_version, version_id)
        if version_id
        else None
    )
    return version.prompt_id if version is not None else ""


def _response(row: dict[str, Any] | None, with_body: bool) -> dict[str, Any]:
    row = row or {}
    return {
        "body": _body(row.get("response_body")) if with_body else None,
        "createdAt": iso(row.get("response_created_at")) or "",
        "completionTokens": row.get("completion_tokens") or 0,
        "promptTokens": row.get("prompt_tokens") or 0,
        "promptCacheWriteTokens": row.get("prompt_cache_write_tokens") or 0,
        "promptCacheReadTokens": row.get("prompt_cache_read_tokens") or 0,
        "delayMs": row.get("latency") or 0,
        "model": row.get("model") or "",
    }


def _request(row: dict[str, Any] | None, request_id: str) -> dict[str, Any]:
    return {"id": request_id, "provider": (row or {}).get("provider") or ""}


async def _hypothesis(
    store: Store,
    org_id: str,
    h: dict[str, Any],
    ctx: dict[str, Any],
    include: IncludeExperimentKeys,
) -> dict[str, Any]:
    runs = []
    for cell in ctx["cells"]:
        if cell["prompt_version_id"] != h["prompt_version_id"] or not cell["request_id"]:
            continue
        logged = ctx["logged"].get(cell["request_id"])
        scores = ctx["scores"].get(cell["request_id"], {}) if include.score else {}
        runs.append(
            {
                "datasetRowId": cell["input_record_id"],
                "resultRequestId": cell["request_id"],
                "scores": {k: {"valueType": "number", "value": v} for k, v in scores.items()},
                "request": _request(logged, cell["request_id"]),
                "response": _response(logged, include.responseBodies),
            }
        )
    out: dict[str, Any] = {
        "id": h["id"],
        "promptVersionId": h["prompt_version_id"],
        "model": h["model"],
        "status": h["status"],
        "createdAt": iso(h["created_at"]) or "",
        "providerKey": h["provider_key_id"] or "",
        "runs": runs,
    }
    if include.promptVersion:
        version = await store.prompts.org(org_id).read(
            legacy_prompts.get_version, h["prompt_version_id"]
        )
        out["promptVersion"] = {"template": version.helicone_template if version else None}
        parent = version.parent_prompt_version if version else None
        parent_version = (
            await store.prompts.org(org_id).read(legacy_prompts.get_version, parent)
            if parent
            else None
        )
        out["parentPromptVersion"] = {
            "template": parent_version.helicone_template if parent_version else None
        }
    return out


async def _dataset(store: Store, org_id: str, found: dict[str, Any], ctx: dict[str, Any]) -> Any:
    name = ""
    if found["dataset_id"]:
        listed = await store.org(org_id).read(datasets.list_datasets, [found["dataset_id"]])
        name = (listed[0]["name"] or "") if listed else ""
    rows = []
    for index, row in enumerate(ctx["rows"]):
        source = row["source_request"] or ""
        logged = ctx["logged"].get(source)
        record = {
            "id": row["id"],
            "requestId": source,
            "requestPath": (logged or {}).get("path") or "",
            "inputs": row["inputs"] or {},
            "autoInputs": row["auto_prompt_inputs"] or [],
            "request": _request(logged, source),
            "response": _response(logged, True),
        }
        rows.append(
            {
                "rowId": row["id"],
                "inputRecord": record,
                "rowIndex": index,
                "columnId": "",
                "scores": {},
            }
        )
    return {"id": found["dataset_id"] or "", "name": name, "rows": rows}


async def _experiment(
    store: Store, org_id: str, found: dict[str, Any], include: IncludeExperimentKeys
) -> dict[str, Any]:
    cells = await store.org(org_id).read(experiments.cells, found["id"])
    rows = await store.org(org_id).read(experiments.experiment_rows, found["id"])
    wanted = [c["request_id"] for c in cells if c["request_id"]]
    wanted += [r["source_request"] for r in rows if r["source_request"] and include.inputs]
    logged = {
        r["request_id"]: r
        for r in await store.log.org(org_id).read(requests.requests_by_ids, wanted)
    }
    found_scores = (
        await store.log.org(org_id).read(scores.for_requests, wanted) if include.score else {}
    )
    ctx = {"cells": cells, "rows": rows, "logged": logged, "scores": found_scores}
    hypotheses = [
        await _hypothesis(store, org_id, h, ctx, include)
        for h in await store.org(org_id).read(experiments.hypotheses, found["id"])
    ]
    tables = [
        t
        for t in await store.org(org_id).read(experiment_tables.list_tables)
        if t["experiment_id"] == found["id"]
    ]
    dataset = await _dataset(store, org_id, found, ctx if include.inputs else {**ctx, "rows": []})
    return {
        "id": found["id"],
        "organization": org_id,
        "dataset": dataset,
        "meta": found["meta"] or {},
        "createdAt": iso(found["created_at"]) or "",
        "hypotheses": hypotheses,
        "scores": None,
        "tableId": tables[0]["id"] if tables else None,
    }


@router.post("/query", response_model=Result[list[dict[str, Any]]])
async def get_experiments_old(
    body: ExperimentsQuery, key: ApiKeyDep, store: StoreDep
) -> Result[list[dict[str, Any]]]:
    """Experiments matching the filter, in the older API's ``Experiment`` shape."""
    org = key.organization_id
    include = body.include or IncludeExperimentKeys()
    matches(body.filter, {"id": "", "prompt_v2": ""})  # a bad filter is a 400 even with no rows
    out = []
    for found in await store.org(org).read(experiments.list_experiments):
        fields = {
            "id": found["id"],
            "prompt_v2": await _prompt_of(store, org, found["original_prompt_version"]),
        }
        if matches(body.filter, fields):
            out.append(await _experiment(store, org, found, include))
    return Result(data=out)
