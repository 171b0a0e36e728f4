"""Setting experiments up: from a prompt version, from a logged request, rows from datasets.

An experiment runs copies of prompt versions: creating one copies its original version into a
new version labelled "Original" (``experiment_id`` set), as Helicone does, so that editing the
experiment never changes what production uses.

A row made from a logged request keeps the request's prompt inputs, and its non-system messages
as *auto inputs*: a template made from a request has ``<helicone-auto-prompt-input idx=N />`` in
their place, so each row replays its own conversation under whichever system prompt a version
tries. The request itself is the row's original output.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from helioscope.errors import BadRequest, NotFound
from helioscope.prompts import legacy_input_keys
from helioscope.store import PromptVersion, Store
from helioscope.store.experiments import datasets, experiments
from helioscope.store.log import requests
from helioscope.store.prompts import legacy_prompts, legacy_versions

DEFAULT_MODEL = "gpt-4o-mini"


def _body(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def split_conversation(body: Any) -> tuple[Any, list[Any]]:
    """A request body as a template, and the messages that became its auto inputs."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise BadRequest("the request is not a chat call with messages")
    template_messages: list[Any] = []
    auto: list[Any] = []
    for message in body["messages"]:
        if isinstance(message, dict) and message.get("role") in ("system", "developer"):
            template_messages.append(message)
        else:
            template_messages.append(f'<helicone-auto-prompt-input idx="{len(auto)}" />')
            auto.append(message)
    return {**body, "messages": template_messages}, auto


def row_from_request(request: dict[str, Any]) -> dict[str, Any]:
    """A row (input record) replaying a logged request."""
    body = _body(request.get("request_body"))
    auto: list[Any] = []
    if isinstance(body, dict) and isinstance(body.get("messages"), list):
        _, auto = split_conversation(body)
    return {
        "inputs": dict(request.get("prompt_inputs") or {}),
        "auto_prompt_inputs": auto,
        "source_request": request["request_id"],
    }


async def copy_original(
    store: Store, org_id: str, experiment_id: str, original: PromptVersion
) -> str:
    """Copy the original version into the experiment and run it; returns the copy's id."""
    copy = await store.prompts.org(org_id).write(
        legacy_versions.create_subversion,
        original.id,
        original.helicone_template,
        metadata={"label": "Original", "experimentAssigned": True},
        experiment_id=experiment_id,
    )
    await store.org(org_id).write(
        experiments.update_experiment,
        experiment_id,
        copied_original_prompt_version=copy.id,
        input_keys=legacy_input_keys(original.helicone_template),
    )
    await store.org(org_id).write(experiments.add_hypothesis, experiment_id, copy.id, copy.model)
    return copy.id


async def new_experiment(store: Store, org_id: str, name: str, version_id: str) -> str:
    """An experiment over a major prompt version (minor 0), as Helicone requires."""
    original = await store.prompts.org(org_id).read(legacy_prompts.must_get_version, version_id)
    if original.minor_version != 0:
        raise BadRequest("originalPromptVersion must be a major version (minor version 0)")
    experiment_id = await store.org(org_id).write(
        experiments.create_experiment, name, original_prompt_version=original.id, input_keys=[]
    )
    await copy_original(store, org_id, experiment_id, original)
    return experiment_id


async def empty_experiment(store: Store, org_id: str) -> str:
    """An experiment with a new, empty prompt of its own."""
    short = uuid.uuid4().hex[:8]
    template = {"model": DEFAULT_MODEL, "messages": [{"role": "system", "content": ""}]}
    _, version = await store.prompts.org(org_id).write(
        legacy_prompts.create_prompt,
        f"experiment-{short}",
        template,
        {"emptyPrompt": True, "createdFromUi": True},
    )
    return await new_experiment(store, org_id, f"Experiment {short}", version.id)


async def experiment_from_request(store: Store, org_id: str, request_id: str) -> str:
    """An experiment whose first row, and whose original prompt, come from a logged request."""
    request = await store.log.org(org_id).read(requests.get_request, request_id)
    if request is None:
        raise NotFound(f"request {request_id} not found")
    version = None
    if request.get("prompt_version"):
        version = await store.prompts.org(org_id).read(
            legacy_prompts.get_version, str(request["prompt_version"])
        )
    if version is None or version.minor_version != 0:
        template, _ = split_conversation(_body(request.get("request_body")))
        # Unpacked apart: mypy would infer the call's result from ``version``'s declared type.
        created = await store.prompts.org(org_id).write(
            legacy_prompts.create_prompt,
            f"request-{request_id[:8]}",
            template,
            # createdForExperiment: the UI lists prompts that calls named, not these.
            {
                "promptFromRequest": True,
                "createdForExperiment": True,
                "provider": request["provider"],
            },
        )
        version = created[1]
    experiment_id = await new_experiment(
        store, org_id, f"Experiment from request {request_id[:8]}", version.id
    )
    await add_request_rows(store, org_id, experiment_id, [request])
    return experiment_id


async def add_request_rows(
    store: Store, org_id: str, experiment_id: str, requests: list[dict[str, Any]]
) -> list[str]:
    """Rows replaying logged requests; each request is its row's original output."""
    ids = await store.org(org_id).write(
        experiments.add_rows, experiment_id, [row_from_request(r) for r in requests]
    )
    found = await store.org(org_id).read(experiments.get_experiment, experiment_id)
    original = found["copied_original_prompt_version"]
    if original:
        for record_id, request in zip(ids, requests, strict=True):
            await store.org(org_id).write(
                experiments.set_cell,
                experiment_id,
                record_id,
                original,
                status="success",
                request_id=request["request_id"],
                is_original=True,
            )
    return ids


async def rows_from_dataset(store: Store, org_id: str, experiment_id: str, dataset_id: str) -> None:
    """Copy a dataset's rows into the experiment (requests replayed, or input records)."""
    listed = await store.org(org_id).read(datasets.list_datasets, [dataset_id])
    if not listed:
        raise NotFound(f"dataset {dataset_id} not found")
    if listed[0]["dataset_type"] == "experiment":
        records = await store.org(org_id).read(datasets.input_records, dataset_id)
        rows = [
            {k: r[k] for k in ("inputs", "auto_prompt_inputs", "source_request")} for r in records
        ]
        await store.org(org_id).write(experiments.add_rows, experiment_id, rows)
        return
    pages, offset = [], 0
    while page := await store.org(org_id).read(datasets.dataset_rows, dataset_id, offset, 1000):
        pages += page
        offset += len(page)
    logged = await store.log.org(org_id).read(
        requests.requests_by_ids, [r["origin_request_id"] for r in pages]
    )
    inputs = {r["request_id"]: r.get("prompt_inputs") for r in logged}
    # The dataset's bodies, edited ones included, are what the rows replay.
    replayed = [
        {
            "request_id": r["origin_request_id"],
            "request_body": r["request_body"],
            "prompt_inputs": inputs.get(r["origin_request_id"]),
        }
        for r in pages
    ]
    await add_request_rows(store, org_id, experiment_id, replayed)
