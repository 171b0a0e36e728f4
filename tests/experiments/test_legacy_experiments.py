"""The older experiment API: dataset experiments, hypotheses, tables, and the query shape."""

from __future__ import annotations

import orjson
import pytest

from tests.conftest import Running
from tests.experiments.helpers import Api
from tests.experiments.test_experiment_e2e import wait_for_run
from tests.experiments.test_experiments import TEMPLATE, new_prompt

# These routes read the log: they run with it in ClickHouse too (tests/conftest.py).
pytestmark = pytest.mark.clickhouse

CODE = {"name": "Mentions", "scoring_type": "x", "code_template": "print(len(request_body))"}


async def dataset_of_cities(api: Api, version: str) -> str:
    dataset_id = (
        await api.post(
            "/v1/experiment/dataset",
            {"datasetName": "cities", "requestIds": [], "datasetType": "experiment"},
        )
    )["datasetId"]
    for city in ("Paris", "Rome"):
        await api.post(
            f"/v1/experiment/dataset/{dataset_id}/version/{version}/row/new",
            {"inputs": {"city": city}},
        )
    return str(dataset_id)


async def test_tables(helioscope: Running) -> None:
    async with Api(helioscope) as api:
        version = await new_prompt(api)
        dataset_id = await dataset_of_cities(api, version)
        created = await api.post(
            "/v1/experiment/table/new",
            {
                "datasetId": dataset_id,
                "experimentMetadata": {"name": "cities"},
                "promptVersionId": version,
                "newHeliconeTemplate": orjson.dumps(TEMPLATE).decode(),
                "isMajorVersion": False,
                "promptSubversionMetadata": {"label": "v2"},
            },
        )
        table_id, experiment_id = created["tableId"], created["experimentId"]
        table = await api.post(f"/v1/experiment/table/{table_id}/query")
        assert table["experimentId"] == experiment_id
        assert [(c["columnName"], c["columnType"]) for c in table["columns"]] == [
            ("city", "input"),
            ("v2", "output"),
        ]
        assert [c["value"] for c in table["columns"][0]["cells"]] == ["Paris", "Rome"]
        assert table["columns"][1]["hypothesisId"]

        await api.post(
            f"/v1/experiment/table/{table_id}/column",
            {"columnName": "notes", "columnType": "input"},
        )
        meta = await api.post(f"/v1/experiment/table/{table_id}/metadata/query")
        notes = meta["columns"][2]["id"]
        assert [c["columnName"] for c in meta["columns"]] == ["city", "v2", "notes"]
        assert [t["id"] for t in await api.post("/v1/experiment/tables/query")] == [table_id]

        await api.post(
            f"/v1/experiment/table/{table_id}/cell",
            {"columnId": notes, "rowIndex": 0, "value": "capital"},
        )
        await api.post(
            f"/v1/experiment/table/{table_id}/row/new",
            {"promptVersionId": version, "inputs": {"city": "Oslo"}},
        )
        await api.post(
            f"/v1/experiment/table/{table_id}/row/insert/batch",
            {
                "rows": [
                    {
                        "inputRecordId": "x",
                        "inputs": {"city": "Lima"},
                        "datasetId": dataset_id,
                        "cells": [{"columnId": table["columns"][0]["id"], "value": "Lima"}],
                    }
                ]
            },
        )
        table = await api.post(f"/v1/experiment/table/{table_id}/query")
        cities = table["columns"][0]["cells"]
        assert [(c["rowIndex"], c["value"]) for c in cities] == [
            (0, "Paris"),
            (1, "Rome"),
            (2, "Oslo"),
            (3, "Lima"),
        ]
        await api.call(
            "PATCH",
            f"/v1/experiment/table/{table_id}/cell",
            {"cellId": cities[1]["id"], "value": "Roma", "metadata": '{"edited": true}'},
        )
        await api.call("DELETE", f"/v1/experiment/table/{table_id}/row/0")
        table = await api.post(f"/v1/experiment/table/{table_id}/query")
        assert [(c["value"], c["metadata"]) for c in table["columns"][0]["cells"][:1]] == [
            ("Roma", {"edited": True})
        ]
        assert len(table["columns"][0]["cells"]) == 3
        assert len((await api.get(f"/v2/experiment/{experiment_id}"))["rows"]) == 4
        await api.call(
            "PATCH", f"/v1/experiment/table/{table_id}/cell", {"cellId": "nope", "value": "x"}, 404
        )
        await api.post(
            f"/v1/experiment/table/{table_id}/cell",
            {"columnId": "no", "rowIndex": 0, "value": None},
            404,
        )


async def test_dataset_experiments_hypotheses_and_query(helioscope: Running) -> None:
    async with Api(helioscope) as api:
        version = await new_prompt(api)
        dataset_id = await dataset_of_cities(api, version)
        empty = (
            await api.post(
                "/v1/experiment/new-empty", {"datasetId": dataset_id, "metadata": {"name": "e"}}
            )
        )["experimentId"]
        experiment_id = (
            await api.post(
                "/v1/experiment",
                {
                    "datasetId": dataset_id,
                    "promptVersion": version,
                    "model": "gpt-4o-mini",
                    "providerKeyId": "key-1",
                },
            )
        )["experimentId"]
        hypothesis_id = (
            await api.post(
                "/v1/experiment/hypothesis",
                {
                    "experimentId": empty,
                    "promptVersion": version,
                    "model": "gpt-4o-mini",
                    "providerKeyId": "key-1",
                    "status": "PENDING",
                },
            )
        )["hypothesisId"]
        assert hypothesis_id

        evaluator = await api.post("/v1/evaluator", CODE)
        await api.post(
            f"/v1/experiment/{experiment_id}/evaluators", {"evaluatorId": evaluator["id"]}
        )
        assert [e["id"] for e in await api.get(f"/v1/experiment/{experiment_id}/evaluators")] == [
            evaluator["id"]
        ]
        assert await api.post(f"/v2/experiment/{experiment_id}/run", {}) == {"cells": 2}
        await wait_for_run(api, experiment_id)
        await api.post(f"/v1/experiment/{experiment_id}/evaluators/run")

        found = await api.post(
            "/v1/experiment/query",
            {
                "filter": {"experiment": {"id": {"equals": experiment_id}}},
                "include": {"inputs": True, "promptVersion": True, "score": True},
            },
        )
        (experiment,) = found
        (hypothesis,) = experiment["hypotheses"]
        assert hypothesis["promptVersionId"] == version and hypothesis["providerKey"] == "key-1"
        assert len(hypothesis["runs"]) == 2
        assert all(run["scores"]["mentions"]["valueType"] == "number" for run in hypothesis["runs"])
        assert hypothesis["promptVersion"]["template"] == TEMPLATE
        assert [r["inputRecord"]["inputs"]["city"] for r in experiment["dataset"]["rows"]] == [
            "Paris",
            "Rome",
        ]
        assert experiment["dataset"]["id"] == dataset_id
        scores = await api.post(f"/v1/experiment/hypothesis/{hypothesis['id']}/scores/query")
        assert scores["runsCount"] == 2 and set(scores["scores"]) == {"mentions"}

        meta = await api.post(
            "/v1/experiment/update-meta", {"experimentId": experiment_id, "meta": {"owner": "me"}}
        )
        assert meta["owner"] == "me"
        by_prompt = await api.post(
            "/v1/experiment/query",
            {"filter": {"experiment": {"prompt_v2": {"equals": "nope"}}}},
        )
        assert by_prompt == []
        await api.post("/v1/experiment/query", {"filter": {"experiment": {"name": {}}}}, 400)
        await api.call("DELETE", f"/v1/experiment/{experiment_id}/evaluators/{evaluator['id']}")
        assert await api.get(f"/v1/experiment/{experiment_id}/evaluators") == []
