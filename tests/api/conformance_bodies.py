"""A swagger-shaped request body for each answered operation of Helicone's document.

Keyed by (method, path template); ``ids`` are the seeded organization's (``tests/api/org_seed``).
Operations without an entry take no body. Each body follows the operation's request schema in
``docs/swagger.json`` (required fields filled, a few optional ones too).
"""

from __future__ import annotations

import time
from typing import Any

WINDOW = {"start": "2020-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"}
SECONDS = {"startTimeUnixSeconds": 0, "endTimeUnixSeconds": 4_102_444_800}
TEST_INPUT = {
    "inputBody": '{"q": 1}',
    "outputBody": '{"a": 2}',
    "inputs": {"inputs": {"city": "x"}},
}


def bodies(ids: dict[str, str]) -> dict[tuple[str, str], Any]:
    """The body of each operation that takes one."""
    now_ms = int(time.time() * 1000)
    return {
        ("POST", "/v1/webhooks"): {"destination": "https://conform.example.com/h", "config": {}},
        ("POST", "/v1/vault/add"): {"key": "sk-conform", "provider": "openai", "name": "c"},
        ("PATCH", "/v1/vault/update/{id}"): {"name": "renamed", "active": True},
        ("POST", "/v1/user/metrics-overview/query"): {
            "useInterquartile": False,
            "pSize": "p95",
            "filter": "all",
        },
        ("POST", "/v1/user/metrics/query"): {"filter": "all", "offset": 0, "limit": 10},
        ("POST", "/v1/user/query"): {"timeFilter": SECONDS},
        ("POST", "/v1/request/query"): {"filter": "all", "limit": 10, "offset": 0},
        ("POST", "/v1/request/query-clickhouse"): {"filter": "all", "limit": 10},
        ("POST", "/v1/request/query-ids"): {"requestIds": [ids["requestId"]]},
        ("POST", "/v1/request/{requestId}/feedback"): {"rating": True},
        ("PUT", "/v1/request/{requestId}/property"): {"key": "tier", "value": "gold"},
        ("POST", "/v1/request/{requestId}/score"): {"scores": {"quality": 3, "ok": True}},
        ("POST", "/v1/prompt/query"): {"filter": "all"},
        ("POST", "/v1/prompt/{promptId}/query"): {"timeFilter": WINDOW},
        ("POST", "/v1/prompt/create"): {
            "userDefinedId": f"conform-{now_ms}",
            "prompt": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
            "metadata": {},
        },
        ("PATCH", "/v1/prompt/{promptId}/user-defined-id"): {"userDefinedId": f"renamed-{now_ms}"},
        ("POST", "/v1/prompt/version/{promptVersionId}/edit-label"): {"label": "conform"},
        ("POST", "/v1/prompt/version/{promptVersionId}/edit-template"): {
            "heliconeTemplate": {"model": "gpt-4o-mini", "messages": []}
        },
        ("POST", "/v1/prompt/version/{promptVersionId}/subversion-from-ui"): {
            "newHeliconeTemplate": {"model": "gpt-4o-mini", "messages": []},
            "isMajorVersion": False,
        },
        ("POST", "/v1/prompt/version/{promptVersionId}/subversion"): {
            "newHeliconeTemplate": {"model": "gpt-4o-mini", "messages": []},
            "isMajorVersion": False,
        },
        ("POST", "/v1/prompt/version/{promptVersionId}/promote"): {
            "previousProductionVersionId": ids["promptVersionId"]
        },
        ("POST", "/v1/prompt/version/{promptVersionId}/inputs/query"): {"limit": 10},
        ("POST", "/v1/prompt/{promptId}/versions/query"): {"filter": "all"},
        ("POST", "/v1/prompt/{user_defined_id}/compile"): {"filter": "all", "inputs": {}},
        ("POST", "/v1/prompt/{user_defined_id}/template"): {"filter": "all", "inputs": {}},
        ("POST", "/v1/evaluator"): {"name": "conform", "scoring_type": "NUMERIC"},
        ("PUT", "/v1/evaluator/{evaluatorId}"): {"name": "conform-renamed"},
        ("POST", "/v1/evaluator/query"): {},
        ("POST", "/v1/evaluator/{evaluatorId}/onlineEvaluators"): {"config": {"sampleRate": 1}},
        ("POST", "/v1/evaluator/python/test"): {"code": "print(1)", "testInput": TEST_INPUT},
        ("POST", "/v1/evaluator/llm/test"): {
            "evaluatorName": "judge",
            "testInput": TEST_INPUT,
            "evaluatorConfig": {"evaluator_scoring_type": "NUMERIC"},
        },
        ("POST", "/v1/evaluator/lastmile/test"): {
            "testInput": TEST_INPUT,
            "config": {
                "_type": "relevance",
                "name": "r",
                "input": {"_type": "input-body", "content": "message"},
                "output": {"_type": "output-body", "content": "message"},
            },
        },
        ("POST", "/v2/experiment/new"): {
            "name": "conform",
            "originalPromptVersion": ids["promptVersionId"],
        },
        ("POST", "/v2/experiment/{experimentId}/prompt-version"): {
            "newHeliconeTemplate": {"model": "gpt-4o-mini", "messages": []},
            "parentPromptVersionId": ids["promptVersionId"],
        },
        ("POST", "/v2/experiment/{experimentId}/add-manual-row"): {"inputs": {"city": "x"}},
        ("POST", "/v2/experiment/{experimentId}/add-manual-rows-batch"): {
            "inputs": [{"city": "y"}]
        },
        ("DELETE", "/v2/experiment/{experimentId}/rows"): {"inputRecordIds": []},
        ("POST", "/v2/experiment/{experimentId}/row/insert/batch"): {
            "rows": [
                {"inputRecordId": ids["inputRecordId"], "inputs": {"city": "z"}, "autoInputs": []}
            ]
        },
        ("POST", "/v2/experiment/{experimentId}/row/update"): {
            "inputRecordId": ids["inputRecordId"],
            "inputs": {"city": "w"},
        },
        ("POST", "/v2/experiment/{experimentId}/run-hypothesis"): {
            "inputRecordId": ids["inputRecordId"],
            "promptVersionId": ids["promptVersionId"],
        },
        ("POST", "/v2/experiment/{experimentId}/evaluators"): {"evaluatorId": ids["evaluatorId"]},
        ("POST", "/v1/trace/log"): {"resourceSpans": []},
        ("POST", "/v1/trace/log-python"): {},
        ("POST", "/v1/session/query"): {
            "search": "",
            "timeFilter": {"startTimeUnixMs": 0, "endTimeUnixMs": now_ms + 3_600_000},
            "timezoneDifference": 0,
            "filter": "all",
        },
        ("POST", "/v1/session/name/query"): {"nameContains": "", "timezoneDifference": 0},
        ("POST", "/v1/session/metrics/query"): {"nameContains": "", "timezoneDifference": 0},
        ("POST", "/v1/session/{sessionId}/feedback"): {"rating": True},
        ("POST", "/v1/property/query"): {},
        ("POST", "/v1/property/{propertyKey}/search"): {"searchTerm": ""},
        ("POST", "/v1/property/{propertyKey}/top-costs/query"): {"timeFilter": WINDOW},
        ("POST", "/v1/experiment/new-empty"): {
            "datasetId": ids["legacyDatasetId"],
            "metadata": {"name": "c"},
        },
        ("POST", "/v1/experiment/table/new"): {
            "datasetId": ids["legacyDatasetId"],
            "experimentMetadata": {"name": "conform-table"},
            "promptVersionId": ids["promptVersionId"],
            "newHeliconeTemplate": '{"messages": []}',
            "isMajorVersion": False,
            "promptSubversionMetadata": {},
        },
        ("POST", "/v1/experiment/table/{experimentTableId}/cell"): {
            "value": "v",
            "rowIndex": 0,
            "columnId": "zz-missing",
        },
        ("PATCH", "/v1/experiment/table/{experimentTableId}/cell"): {"cellId": "zz-missing"},
        ("POST", "/v1/experiment/table/{experimentTableId}/column"): {
            "columnName": "extra",
            "columnType": "input",
        },
        ("POST", "/v1/experiment/table/{experimentTableId}/row/new"): {
            "promptVersionId": ids["promptVersionId"],
            "inputs": {"city": "v"},
        },
        ("POST", "/v1/experiment/table/{experimentTableId}/row/insert/batch"): {"rows": []},
        ("POST", "/v1/experiment/update-meta"): {
            "experimentId": ids["tableExperimentId"],
            "meta": {"note": "x"},
        },
        ("POST", "/v1/experiment"): {
            "datasetId": ids["legacyDatasetId"],
            "promptVersion": ids["promptVersionId"],
            "model": "gpt-4o-mini",
            "providerKeyId": "NOKEY",
        },
        ("POST", "/v1/experiment/hypothesis"): {
            "experimentId": ids["tableExperimentId"],
            "model": "gpt-4o-mini",
            "promptVersion": ids["promptVersionId"],
            "providerKeyId": "NOKEY",
            "status": "PENDING",
        },
        ("POST", "/v1/experiment/{experimentId}/evaluators"): {"evaluatorId": ids["evaluatorId"]},
        ("POST", "/v1/experiment/query"): {"filter": "all", "include": {"inputs": True}},
        ("POST", "/v1/experiment/dataset"): {
            "datasetName": "conform",
            "requestIds": [ids["requestId"]],
            "datasetType": "experiment",
        },
        ("POST", "/v1/experiment/dataset/random"): {"datasetName": "rand", "filter": "all"},
        ("POST", "/v1/experiment/dataset/query"): {},
        ("POST", "/v1/experiment/dataset/{datasetId}/row/insert"): {
            "inputRecordId": ids["inputRecordId"],
            "inputs": {"city": "q"},
        },
        ("POST", "/v1/experiment/dataset/{datasetId}/version/{promptVersionId}/row/new"): {
            "inputs": {"city": "r"}
        },
        ("POST", "/v1/experiment/dataset/{datasetId}/mutate"): {
            "addRequests": [],
            "removeRequests": [],
        },
        ("POST", "/v1/helicone-dataset"): {
            "datasetName": "conform",
            "requestIds": [ids["otherRequestId"]],
        },
        ("POST", "/v1/helicone-dataset/{datasetId}/mutate"): {
            "addRequests": [ids["otherRequestId"]],
            "removeRequests": [],
        },
        ("POST", "/v1/helicone-dataset/{datasetId}/query"): {"limit": 10, "offset": 0},
        ("POST", "/v1/helicone-dataset/query"): {},
        ("POST", "/v1/helicone-dataset/{datasetId}/request/{requestId}"): {
            "requestBody": {"messages": []},
            "responseBody": {"choices": []},
        },
        ("POST", "/v1/evals/query"): {"filter": "all", "timeFilter": WINDOW},
        ("POST", "/v1/evals/{requestId}"): {"name": "conform-eval", "score": 0.5},
        ("POST", "/v1/evals/score-distributions/query"): {"filter": "all", "timeFilter": WINDOW},
        ("POST", "/v1/dashboard/scores/query"): {
            "timeFilter": WINDOW,
            "userFilter": "all",
            "dbIncrement": "day",
            "timeZoneDifference": 0,
        },
        ("PATCH", "/v1/api-keys/provider-key/{providerKeyId}"): {"config": {}},
        ("POST", "/v1/api-keys/provider-key"): {
            "providerKeyName": "conform",
            "providerName": "openai",
            "providerKey": "sk-conform-2",
            "config": {},
        },
        ("POST", "/v1/api-keys"): {"api_key_name": "conform", "key_permissions": "r"},
        ("POST", "/v1/api-keys/proxy-key"): {
            "proxyKeyName": "conform",
            "providerKeyId": ids["providerKeyId"],
        },
        ("PATCH", "/v1/api-keys/{apiKeyId}"): {"api_key_name": "conform-renamed"},
    }
