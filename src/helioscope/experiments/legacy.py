"""Setting up experiments the older API's way: over a dataset, with hypotheses and a table."""

from __future__ import annotations

from typing import Any

import orjson

from helioscope.errors import BadRequest, NotFound
from helioscope.experiments.setup import rows_from_dataset
from helioscope.prompts import legacy_input_keys
from helioscope.store import Store
from helioscope.store.experiments import datasets, experiment_tables, experiments
from helioscope.store.prompts import legacy_prompts, legacy_versions


async def dataset_experiment(
    store: Store, org_id: str, dataset_id: str, meta: dict[str, Any] | None, name: str = ""
) -> str:
    """An experiment over a dataset, whose rows become the experiment's rows."""
    listed = await store.org(org_id).read(datasets.list_datasets, [dataset_id])
    if not listed:
        raise NotFound(f"dataset {dataset_id} not found")
    title = name or str((meta or {}).get("name") or listed[0]["name"] or "Experiment")
    experiment_id = await store.org(org_id).write(
        experiments.create_experiment, title, dataset_id=dataset_id, meta=meta or {}, input_keys=[]
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
    await store.org(org_id).read(experiments.get_experiment, experiment_id)
    version = await store.prompts.org(org_id).read(legacy_prompts.must_get_version, version_id)
    await store.org(org_id).write(
        experiments.add_input_keys, experiment_id, legacy_input_keys(version.helicone_template)
    )
    if not (await store.org(org_id).read(experiments.get_experiment, experiment_id))[
        "original_prompt_version"
    ]:
        await store.org(org_id).write(
            experiments.update_experiment, experiment_id, original_prompt_version=version.id
        )
    return await store.org(org_id).write(
        experiments.add_hypothesis,
        experiment_id,
        version.id,
        model or version.model,
        status,
        provider_key_id,
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
    version = await store.prompts.org(org_id).write(
        legacy_versions.create_subversion,
        params["promptVersionId"],
        _template(params["newHeliconeTemplate"]),
        is_major=bool(params.get("isMajorVersion")),
        metadata=params.get("promptSubversionMetadata") or {},
        experiment_id=experiment_id,
    )
    hypothesis = await add_hypothesis(store, org_id, experiment_id, version.id, version.model)
    table_meta = dict(params.get("experimentTableMetadata") or {})
    name = str(table_meta.get("name") or meta.get("name") or "Experiment table")
    org = store.org(org_id)
    table_id = await org.write(experiment_tables.create_table, experiment_id, name, table_meta)
    keys = legacy_input_keys(version.helicone_template)
    columns = {
        key: await org.write(
            experiment_tables.add_column, table_id, column_name=key, column_type="input"
        )
        for key in keys
    }
    await org.write(
        experiment_tables.add_column,
        table_id,
        column_name=str(version.metadata.get("label") or "Original"),
        column_type="output",
        hypothesis_id=hypothesis,
        prompt_version_id=version.id,
    )
    rows = await store.org(org_id).read(experiments.experiment_rows, experiment_id)
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
    await org.write(experiment_tables.put_cells, table_id, cells)
    return table_id, experiment_id
