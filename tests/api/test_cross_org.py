"""Two organizations, every operation: nothing of one is visible to, or changeable by, the other.

Organization A gets one of everything, marked with ``MARK``. Organization B, with a key of every
scope, then calls every operation of the OpenAPI document with A's ids in the path and in the
body, twice over (so that anything B's first pass could have copied into B's own data is read
back). No answer may carry A's marks, no success may name A's objects, and A's rows must be
exactly as they were.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from helioscope import Settings
from helioscope.api import Need
from helioscope.api.access import SCOPE_EXTENSION
from helioscope.store import Db
from helioscope.store.tables import metadata
from tests.api.inprocess import InProcess, fill, operations
from tests.api.org_seed import MARK, seed


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # A's rows change by B only; a secret key, so that provider keys are stored and swept too.
    update = {"alert_check_seconds": 0, "secret_key": SecretStr("cross-org-" + "s" * 32)}
    return settings.model_copy(update=update)


async def org_rows(db: Db, org_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every row the organization owns, table by table."""
    rows = {}
    for table in metadata.sorted_tables:
        if "organization_id" in table.c:
            stmt = select(table).where(table.c.organization_id == org_id)
            rows[table.name] = await db.rows(stmt.order_by(*table.primary_key.columns))
    return rows


def path_values(path: str, ids: dict[str, str]) -> dict[str, str]:
    """A's id for each parameter of ``path`` (the prompt and dataset kinds depend on the path)."""
    values = {**ids, "propertyKey": "team", "scoreKey": f"{MARK}-q", "token": "not-the-token"}
    if "/prompt-2025/" in path:
        values.update(promptId=ids["prompt2025Id"], promptVersionId=ids["versionId"])
    if path.startswith("/v1/experiment/dataset") or path.endswith("/dataset/{datasetId}"):
        values["datasetId"] = ids["legacyDatasetId"]
    if path.startswith("/v1/experiment/"):
        values["experimentId"] = ids["tableExperimentId"]
    values.setdefault("rowIndex", "0")
    return values


def bodies(ids: dict[str, str]) -> list[Any]:
    """No body, and one naming A's objects under every field name the API reads ids from."""
    return [
        None,
        {
            "filter": "all",
            "requestIds": [ids["requestId"], ids["otherRequestId"]],
            "requestId": ids["requestId"],
            "sessionId": ids["sessionId"],
            "promptId": ids["prompt2025Id"],
            "promptVersionId": ids["promptVersionId"],
            "versionId": ids["versionId"],
            "originalPromptVersion": ids["promptVersionId"],
            "parentPromptVersionId": ids["promptVersionId"],
            "promptVersionIds": [ids["promptVersionId"]],
            "experimentId": ids["experimentId"],
            "datasetId": ids["datasetId"],
            "evaluatorId": ids["evaluatorId"],
            "inputRecordId": ids["inputRecordId"],
            "inputRecordIds": [ids["inputRecordId"]],
            "userDefinedId": ids["user_defined_id"],
            "environment": "production",
            "key": "team",
            "rating": True,
            "tag": "zebra",
            "scores": {"zebra": 1},
            "inputs": {"city": "zebra"},
            "name": "zebra",
            "datasetName": "zebra",
            "api_key_name": "zebra",
        },
    ]


async def sweep(
    api: InProcess, key: str, ids: dict[str, str], needs: set[Need]
) -> tuple[Counter[int], list[str]]:
    """Call every operation of ``needs`` with ``key``; return the statuses, and what leaked."""
    own = {v for k, v in ids.items() if k not in ("user_defined_id", "apiKeyId")}
    statuses: Counter[int] = Counter()
    leaks: list[str] = []
    for method, path, operation in operations(api.app):
        if operation[SCOPE_EXTENSION] not in needs:
            continue
        concrete = fill(path, path_values(path, ids))
        for body in bodies(ids):
            response = await api.call(method, concrete, key, body)
            statuses[response.status_code] += 1
            text = response.text
            assert response.status_code < 500, (method, path, text)
            if MARK in text.lower():
                leaks.append(f"{method} {path} -> {response.status_code}: {text[:300]}")
            if response.status_code < 300:
                leaks += [f"{method} {path} named A's {i}" for i in own if i in text]
    return statuses, leaks


# The public route is left out: its URL is the credential (a wrong token is a 404 like any id).
EVERY_NEED = {Need.READ, Need.WRITE, Need.LOG, Need.ALL}


async def test_no_operation_crosses_organizations(api: InProcess) -> None:
    a = await api.add_org(MARK)
    b = await api.add_org("zebra")
    ids = await seed(api, a)
    # A's own reads show the marks in many answers, so a leak would show in B's.
    _, marked = await sweep(api, a.keys["rw"], ids, {Need.READ})
    assert len({line.split(" ->")[0] for line in marked}) > 30
    before = await api.services.store.read(org_rows, a.id)
    for _ in range(2):
        statuses, leaks = await sweep(api, b.keys["rw"], ids, EVERY_NEED)
        assert not leaks, "\n".join(leaks)
        # Every call reached its handler (B's key passes every check), and many succeeded.
        assert statuses[401] + statuses[403] == 0, statuses
        assert sum(n for status, n in statuses.items() if status < 300) > 40, statuses
    assert await api.services.store.read(org_rows, a.id) == before
