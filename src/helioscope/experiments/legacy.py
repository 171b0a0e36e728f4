"""Setting up experiments the older API's way: over a dataset, with hypotheses and a table."""

from __future__ import annotations

from typing import Any

import orjson

from helioscope.errors import BadRequest, NotFound
from helioscope.experiments.setup import rows_from_dataset
from helioscope.prompts import legacy_input_keys
from helioscope.store import Store


async def dataset_experiment(
    store: Store, org_id: str, dataset_id: str, meta: dict[str, Any] | None, name: str = ""
) -> str:
    """An experiment over a dataset, whose rows become the experiment's rows."""
    listed = await store.datasets.list_datasets(org_id, [dataset_id])
    if not listed:
        raise NotFound(f"dataset {dataset_id} not found")
    title = name or str((meta or {}).get("name") or listed[0]["name"] or "Experiment")
    experiment_id = await store.experiments.create(
        org_id, title, dataset_id=dataset_id, meta=meta or {}, input_keys=[]
    )
    await rows_from_dataset(store, org_id, experiment_id, dataset_id)
    return experiment_id


async def add_hypothesis(
    store: Store,
    org_id: str,
    experiment_id: str,
    version_id: str,
    model: str,
    status: str = "PENDING",
    provider_key_id: str | None = None,
) -> str:
    """A hypothesis: the experiment runs this prompt version (with this model)."""
    await store.experiments.get(org_id, experiment_id)
    version = await store.prompts.must_get_version(org_id, version_id)
    await store.experiments.add_input_keys(
        org_id, experiment_id, legacy_input_keys(version.helicone_template)
    )
    if not (await store.experiments.get(org_id, experiment_id))["original_prompt_version"]:
        await store.experiments.update(org_id, experiment_id, original_prompt_version=version.id)
    return await store.experiments.add_hypothesis(
        org_id, experiment_id, version.id, model or version.model, status, provider_key_id
    )


def _template(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise BadRequest("newHeliconeTemplate must be a JSON template") from None


async def table_experiment(store: Store, org_id: str, params: dict[str, Any]) -> tuple[str, str]:
    """An experiment, a new prompt version and a table; returns ``(table id, experiment id)``.

    The table has one input column per input key, one output column for the version, and a row
    per dataset row.
    """
    meta = dict(params.get("experimentMetadata") or {})
    experiment_id = await dataset_experiment(store, org_id, params["datasetId"], meta)
    version = await store.prompts.create_subversion(
        org_id,
        params["promptVersionId"],
        _template(params["newHeliconeTemplate"]),
        is_major=bool(params.get("isMajorVersion")),
        metadata=params.get("promptSubversionMetadata") or {},
        experiment_id=experiment_id,
    )
    hypothesis = await add_hypothesis(store, org_id, experiment_id, version.id, version.model)
    table_meta = dict(params.get("experimentTableMetadata") or {})
    name = str(table_meta.get("name") or meta.get("name") or "Experiment table")
    tables = store.experiment_tables
    table_id = await tables.create(org_id, experiment_id, name, table_meta)
    keys = legacy_input_keys(version.helicone_template)
    columns = {
        key: await tables.add_column(org_id, table_id, column_name=key, column_type="input")
        for key in keys
    }
    await tables.add_column(
        org_id,
        table_id,
        column_name=str(version.metadata.get("label") or "Original"),
        column_type="output",
        hypothesis_id=hypothesis,
        prompt_version_id=version.id,
    )
    rows = await store.experiments.rows(org_id, experiment_id)
    cells = [
        {
            "column_id": column_id,
            "row_index": index,
            "value": str((row["inputs"] or {}).get(key, "")),
            "metadata": {"inputRecordId": row["id"]},
        }
        for index, row in enumerate(rows)
        for key, column_id in columns.items()
    ]
    await tables.put_cells(org_id, table_id, cells)
    return table_id, experiment_id
