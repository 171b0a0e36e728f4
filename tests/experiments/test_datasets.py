from __future__ import annotations

import base64

import orjson
import pytest

from tests.conftest import Running
from tests.experiments.helpers import Api, log_call

# These routes read the log: they run with it in ClickHouse too (tests/conftest.py).
pytestmark = pytest.mark.clickhouse


async def test_dataset_from_requests_mutate_query_count_list(helioscope: Running) -> None:
    a, b, c = [await log_call(helioscope, f"question {i}") for i in range(3)]
    async with Api(helioscope) as api:
        created = await api.post(
            "/v1/helicone-dataset", {"datasetName": "golden", "requestIds": [a, b]}
        )
        dataset_id = created["datasetId"]
        assert await api.post(f"/v1/helicone-dataset/{dataset_id}/count") == 2

        await api.post(
            f"/v1/helicone-dataset/{dataset_id}/mutate",
            {"addRequests": [c, c], "removeRequests": [a]},
        )
        assert await api.post(f"/v1/helicone-dataset/{dataset_id}/count") == 2

        rows = await api.post(
            f"/v1/helicone-dataset/{dataset_id}/query", {"offset": 0, "limit": 10}
        )
        assert [r["origin_request_id"] for r in rows] == [b, c]
        row = rows[0]
        assert row["dataset_id"] == dataset_id and row["created_at"].endswith("Z")
        # Helicone's rows carry their bodies behind signed_url only; the UI's route inlines them.
        assert "request_body" not in row and "response_body" not in row
        url = row["signed_url"]["data"]
        assert url.startswith("data:application/json;base64,")
        doc = orjson.loads(base64.b64decode(url.split(",", 1)[1]))
        assert doc["request"]["messages"][0]["content"] == "question 1"
        ours = await api.post(
            f"/v1/helioscope/datasets/{dataset_id}/rows", {"offset": 0, "limit": 10}
        )
        assert [r["origin_request_id"] for r in ours] == [b, c]
        assert ours[0]["request_body"] == doc["request"]
        assert ours[0]["response_body"]["choices"][0]["message"]["content"]
        assert {k: v for k, v in ours[0].items() if not k.endswith("_body")} == row

        page = await api.post(f"/v1/helicone-dataset/{dataset_id}/query", {"offset": 1, "limit": 1})
        assert [r["origin_request_id"] for r in page] == [c]

        listed = await api.post("/v1/helicone-dataset/query", {})
        assert [(d["id"], d["name"], d["requests_count"]) for d in listed] == [
            (dataset_id, "golden", 2)
        ]
        assert listed[0]["organization"] == helioscope.org_id
        assert listed[0]["dataset_type"] == "helicone"
        assert await api.post("/v1/helicone-dataset/query", {"datasetIds": ["nope"]}) == []


async def test_edit_bodies_and_export_jsonl(helioscope: Running) -> None:
    a = await log_call(helioscope, "what is two plus two")
    async with Api(helioscope) as api:
        dataset_id = (
            await api.post("/v1/helicone-dataset", {"datasetName": "ft", "requestIds": [a]})
        )["datasetId"]
        edited_request = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "2+2?"}]}
        edited_response = {"choices": [{"message": {"role": "assistant", "content": "4"}}]}
        await api.post(
            f"/v1/helicone-dataset/{dataset_id}/request/{a}",
            {"requestBody": edited_request, "responseBody": edited_response},
        )
        rows = await api.post(
            f"/v1/helioscope/datasets/{dataset_id}/rows", {"offset": 0, "limit": 10}
        )
        assert rows[0]["request_body"] == edited_request
        # The logged request itself is untouched.
        logged = await api.get(f"/v1/request/{a}")
        assert logged["request_body"]["messages"][0]["content"] == "what is two plus two"

        export = await api.http.get(f"/v1/helicone-dataset/{dataset_id}/export")
        assert export.status_code == 200
        assert export.headers["content-type"].startswith("application/jsonl")
        lines = [orjson.loads(x) for x in export.content.splitlines()]
        assert lines == [
            {
                "messages": [
                    {"role": "user", "content": "2+2?"},
                    {"role": "assistant", "content": "4"},
                ]
            }
        ]
        raw = await api.http.get(f"/v1/helicone-dataset/{dataset_id}/export?format=raw")
        assert orjson.loads(raw.content.splitlines()[0])["request_id"] == a

        await api.post(f"/v1/helicone-dataset/{dataset_id}/delete")
        assert await api.post("/v1/helicone-dataset/query", {}) == []
        missing = await api.post(f"/v1/helicone-dataset/{dataset_id}/count", status=404)
        assert dataset_id in missing


async def test_bad_input_and_other_organizations(helioscope: Running) -> None:
    a = await log_call(helioscope)
    _, other_key = await helioscope.add_org("other")
    async with Api(helioscope) as api, Api(helioscope, other_key) as other:
        error = await api.post(
            "/v1/helicone-dataset", {"datasetName": "x", "requestIds": [a, "missing-id"]}, 404
        )
        assert "missing-id" in error
        dataset_id = (
            await api.post("/v1/helicone-dataset", {"datasetName": "x", "requestIds": [a]})
        )["datasetId"]
        # Another organization sees neither the dataset nor can add our requests to its own.
        await other.post(f"/v1/helicone-dataset/{dataset_id}/count", status=404)
        assert await other.post("/v1/helicone-dataset/query", {}) == []
        await other.post("/v1/helicone-dataset", {"datasetName": "y", "requestIds": [a]}, 404)
        await api.post(
            f"/v1/helicone-dataset/{dataset_id}/query", {"offset": 0, "limit": 0}, status=400
        )
        await api.post(
            f"/v1/helicone-dataset/{dataset_id}/request/not-in-it",
            {"requestBody": {}, "responseBody": {}},
            status=404,
        )


async def test_experiment_datasets_of_input_records(helioscope: Running) -> None:
    a = await log_call(helioscope, "alpha")
    b = await log_call(helioscope, "beta")
    async with Api(helioscope) as api:
        dataset_id = (
            await api.post(
                "/v1/experiment/dataset",
                {
                    "datasetName": "inputs",
                    "requestIds": [a],
                    "datasetType": "experiment",
                    "meta": {"promptVersionId": "pv-1"},
                },
            )
        )["datasetId"]
        new_id = await api.post(
            f"/v1/experiment/dataset/{dataset_id}/version/pv-1/row/new",
            {"inputs": {"city": "Paris"}},
        )
        inserted = await api.post(
            f"/v1/experiment/dataset/{dataset_id}/row/insert",
            {"inputs": {"city": "Rome"}, "inputRecordId": "11111111-1111-4111-8111-111111111111"},
        )
        assert inserted == "11111111-1111-4111-8111-111111111111"
        records = await api.post(f"/v1/experiment/dataset/{dataset_id}/inputs/query")
        assert [r["source_request"] for r in records] == [a, "", ""]
        # Helicone types the record's bodies as strings: the JSON text of the source's bodies.
        assert orjson.loads(records[0]["request_body"])["messages"][0]["content"] == "alpha"
        assert [r["id"] for r in records][1:] == [new_id, inserted]
        assert records[1] | {"created_at": "", "dataset_row_id": ""} == {
            "id": new_id,
            "inputs": {"city": "Paris"},
            "dataset_row_id": "",
            "source_request": "",
            "prompt_version": "pv-1",
            "created_at": "",
            "auto_prompt_inputs": [],
        }
        await api.post(
            f"/v1/experiment/dataset/{dataset_id}/mutate",
            {"addRequests": [b], "removeRequests": [a]},
        )
        records = await api.post(f"/v1/experiment/dataset/{dataset_id}/inputs/query")
        assert [r["source_request"] for r in records] == ["", "", b]
        assert await api.post(f"/v1/helicone-dataset/{dataset_id}/count") == 3

        listed = await api.post("/v1/experiment/dataset/query", {"promptVersionId": "pv-1"})
        assert [d["id"] for d in listed] == [dataset_id]
        assert await api.post("/v1/experiment/dataset/query", {"promptVersionId": "x"}) == []
        random = await api.post(
            "/v1/experiment/dataset/random",
            {"datasetName": "r", "filter": "all", "limit": 1},
        )
        assert await api.post(f"/v1/helicone-dataset/{random['datasetId']}/count") == 1
