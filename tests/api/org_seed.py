"""One organization with a little of everything, each object marked so that a leak shows."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.api.inprocess import InProcess, Org

MARK = "aardvark"  # in every name and text the seeded organization owns


def _log(session_id: str, n: int) -> dict[str, Any]:
    now = time.time()
    return {
        "providerRequest": {
            "url": "https://api.openai.com/v1/chat/completions",
            "json": {
                "model": f"gpt-{MARK}",
                "messages": [{"role": "user", "content": f"{MARK} secret {n}"}],
            },
            "meta": {
                "Helicone-User-Id": f"{MARK}-user",
                "Helicone-Property-Team": f"{MARK}-team",
                "Helicone-Session-Id": session_id,
                "Helicone-Session-Name": f"{MARK}-session",
                "Helicone-Session-Path": f"/{MARK}/{n}",
            },
        },
        "providerResponse": {
            "status": 200,
            "json": {
                "model": f"gpt-{MARK}",
                "choices": [{"message": {"role": "assistant", "content": f"{MARK} answer"}}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
            },
        },
        "timing": {"startTime": now - 2 + n, "endTime": now - 1 + n},
    }


async def _logged(api: InProcess, org: Org) -> dict[str, str]:
    session_id = str(uuid.uuid4())
    request_ids = []
    for n in range(2):
        response = await api.call("POST", "/custom/v1/log", org.keys["w"], _log(session_id, n))
        assert response.status_code == 200, response.text
        request_ids.append(response.headers["helicone-id"])
    await api.services.started.writer.flush()
    rw, request_id = org.keys["rw"], request_ids[0]
    await api.data("POST", f"/v1/request/{request_id}/score", rw, {"scores": {f"{MARK}-q": 4}})
    await api.data("POST", f"/v1/request/{request_id}/feedback", rw, {"rating": True})
    await api.data("POST", f"/v1/evals/{request_id}", rw, {"name": f"{MARK}-eval", "score": 1})
    await api.data("POST", f"/v1/session/{session_id}/tag", rw, {"tag": f"{MARK}-tag"})
    await api.data("POST", "/v1/property/hide", rw, {"key": f"{MARK}-hidden"})
    return {"requestId": request_id, "otherRequestId": request_ids[1], "sessionId": session_id}


async def _prompts(api: InProcess, org: Org) -> dict[str, str]:
    rw = org.keys["rw"]
    template = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"{MARK} hi"}]}
    user_defined_id = f"p-{uuid.uuid4().hex[:8]}"  # unmarked: a 404 may echo it
    legacy = await api.data(
        "POST",
        "/v1/prompt/create",
        rw,
        {"userDefinedId": user_defined_id, "prompt": template, "metadata": {}},
    )
    prompt = await api.data(
        "POST",
        "/v1/prompt-2025",
        rw,
        {"name": f"{MARK}-2025", "tags": [f"{MARK}-tag"], "promptBody": template},
    )
    return {
        "promptId": legacy["id"],
        "promptVersionId": legacy["prompt_version_id"],
        "user_defined_id": user_defined_id,
        "prompt2025Id": prompt["id"],
        "versionId": prompt["versionId"],
    }


async def _experiments(api: InProcess, org: Org, ids: dict[str, str]) -> dict[str, str]:
    rw = org.keys["rw"]
    dataset = await api.data(
        "POST",
        "/v1/helicone-dataset",
        rw,
        {"datasetName": f"{MARK}-dataset", "requestIds": [ids["requestId"]]},
    )
    legacy_dataset = await api.data(
        "POST",
        "/v1/experiment/dataset",
        rw,
        {"datasetName": f"{MARK}-inputs", "requestIds": [], "datasetType": "experiment"},
    )
    await api.data(
        "POST",
        f"/v1/experiment/dataset/{legacy_dataset['datasetId']}/version/"
        f"{ids['promptVersionId']}/row/new",
        rw,
        {"inputs": {"city": f"{MARK}-city"}},
    )
    evaluator = await api.data(
        "POST",
        "/v1/evaluator",
        rw,
        {"name": f"{MARK}-judge", "scoring_type": "NUMERIC", "code_template": "print(1)"},
    )
    await api.data("POST", f"/v1/evaluator/{evaluator['id']}/onlineEvaluators", rw, {"config": {}})
    online = await api.data("GET", f"/v1/evaluator/{evaluator['id']}/onlineEvaluators", rw)
    experiment = await api.data(
        "POST",
        "/v2/experiment/new",
        rw,
        {"name": f"{MARK}-experiment", "originalPromptVersion": ids["promptVersionId"]},
    )
    experiment_id = experiment["experimentId"]
    row = await api.data(
        "POST",
        f"/v2/experiment/{experiment_id}/add-manual-row",
        rw,
        {"inputs": {"city": f"{MARK}-city"}},
    )
    await api.data(
        "POST", f"/v2/experiment/{experiment_id}/evaluators", rw, {"evaluatorId": evaluator["id"]}
    )
    table = await api.data(
        "POST",
        "/v1/experiment/table/new",
        rw,
        {
            "datasetId": legacy_dataset["datasetId"],
            "experimentMetadata": {"name": f"{MARK}-table"},
            "promptVersionId": ids["promptVersionId"],
            "newHeliconeTemplate": f'{{"messages": [{{"role": "user", "content": "{MARK}"}}]}}',
            "isMajorVersion": False,
            "promptSubversionMetadata": {"label": f"{MARK}-label"},
        },
    )
    return {
        "datasetId": dataset["datasetId"],
        "legacyDatasetId": legacy_dataset["datasetId"],
        "evaluatorId": evaluator["id"],
        "onlineEvaluatorId": online[0]["id"],
        "experimentId": experiment_id,
        "inputRecordId": row,
        "experimentTableId": table["tableId"],
        "tableExperimentId": table["experimentId"],
    }


async def _settings(api: InProcess, org: Org) -> dict[str, str]:
    rw = org.keys["rw"]
    hook = await api.data(
        "POST", "/v1/webhooks", rw, {"destination": f"https://{MARK}.example.com/hook"}
    )
    alert = await api.data(
        "POST",
        "/v1/alert/create",
        rw,
        {
            "name": f"{MARK}-alert",
            "metric": "cost",
            "threshold": 1,
            "time_window": 3_600_000,
            "webhook_id": hook["id"],
        },
    )
    vaulted = await api.data(
        "POST",
        "/v1/vault/add",
        rw,
        {"key": f"sk-{MARK}-provider-key", "provider": "openai", "name": f"{MARK}-vault"},
    )
    slack_channel = {
        "id": f"{MARK}-channel",
        "name": f"#{MARK}",
        "webhook_url": f"https://hooks.{MARK}.example.com/services/T0/B0/x",
    }
    slack = await api.data(
        "POST",
        "/v1/integration",
        rw,
        {"integration_name": "slack", "settings": {"channels": [slack_channel]}},
    )
    return {
        "integrationId": slack["id"],
        "customerId": f"{MARK}-user",
        "webhookId": hook["id"],
        "alertId": alert,
        "apiKeyId": str(org.key_ids["r"]),
        "providerKeyId": vaulted["id"],
        "id": vaulted["id"],
    }


async def seed(api: InProcess, org: Org) -> dict[str, str]:
    """Give ``org`` logged calls and one of every object; return their ids by path parameter."""
    ids = await _logged(api, org)
    ids.update(await _prompts(api, org))
    ids.update(await _experiments(api, org, ids))
    ids.update(await _settings(api, org))
    return ids
