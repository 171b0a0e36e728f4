"""Helicone's dataset routes name a row by the dataset row's own id where the row exists.

Helicone's web UI removes rows (``mutate``'s ``removeRequests``) and saves edited bodies
(``/{datasetId}/request/{requestId}``) by the ``id`` of the row that ``/{datasetId}/query``
returned, not by its ``origin_request_id``; a script written against Helicone does the same.
Adding takes logged request ids (``addRequests``), as creating does.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Running
from tests.gateway.clients import openai_client, stored


async def _logged(hs: Running, content: str) -> str:
    async with openai_client(hs) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": content}]
        )
    request_id = str(raw.headers["helicone-id"])
    await stored(hs, request_id)
    return request_id


async def _data(hs: Running, path: str, json: Any = None) -> Any:
    response = await hs.client.post(path, json=json, headers=hs.auth())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["error"] is None
    return body["data"]


async def _rows(hs: Running, dataset_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await _data(
        hs, f"/v1/helicone-dataset/{dataset_id}/query", {"offset": 0, "limit": 10}
    )
    return rows


async def test_remove_and_edit_by_dataset_row_id(helioscope: Running) -> None:
    a, b = await _logged(helioscope, "first"), await _logged(helioscope, "second")
    created = await _data(
        helioscope, "/v1/helicone-dataset", {"datasetName": "golden", "requestIds": [a, b]}
    )
    dataset_id = created["datasetId"]
    row_a, row_b = await _rows(helioscope, dataset_id)
    assert (row_a["origin_request_id"], row_b["origin_request_id"]) == (a, b)

    # Save edited bodies as Helicone's drawer does: by the row's id.
    edited = {"requestBody": {"messages": [{"role": "user", "content": "edited"}]}}
    await _data(
        helioscope,
        f"/v1/helicone-dataset/{dataset_id}/request/{row_b['id']}",
        {**edited, "responseBody": {"choices": []}},
    )
    ours = await _data(
        helioscope, f"/v1/helioscope/datasets/{dataset_id}/rows", {"offset": 0, "limit": 10}
    )
    assert ours[1]["request_body"] == edited["requestBody"]

    # Remove as Helicone's UI does: by the row's id. It must go, not be ignored.
    await _data(
        helioscope,
        f"/v1/helicone-dataset/{dataset_id}/mutate",
        {"addRequests": [], "removeRequests": [row_a["id"]]},
    )
    assert await _data(helioscope, f"/v1/helicone-dataset/{dataset_id}/count") == 1
    assert [r["id"] for r in await _rows(helioscope, dataset_id)] == [row_b["id"]]
