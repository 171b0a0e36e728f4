"""The v2 experiment routes one by one: rows, versions, runs that fail upstream, isolation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Running
from tests.experiments.helpers import Api, log_call
from tests.experiments.test_experiment_e2e import wait_for_run

# These routes read the log: they run with it in ClickHouse too (tests/conftest.py).
pytestmark = pytest.mark.clickhouse

TEMPLATE = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "system", "content": "You answer about cities."},
        {"role": "user", "content": 'Tell me about <helicone-prompt-input key="city" />.'},
    ],
}


async def new_prompt(api: Api, name: str = "cities", template: Any = TEMPLATE) -> str:
    created = await api.post(
        "/v1/prompt/create", {"userDefinedId": name, "prompt": template, "metadata": {}}
    )
    return str(created["prompt_version_id"])


async def test_rows_versions_and_input_keys(helioscope: Running) -> None:
    async with Api(helioscope) as api:
        version = await new_prompt(api)
        experiment_id = (
            await api.post(
                "/v2/experiment/new", {"name": "cities", "originalPromptVersion": version}
            )
        )["experimentId"]
        listed = await api.get("/v2/experiment")
        assert [(e["id"], e["name"], e["original_prompt_version"]) for e in listed] == [
            (experiment_id, "cities", version)
        ]
        assert await api.get(f"/v2/experiment/{experiment_id}/input-keys") == ["city"]

        paris = await api.post(
            f"/v2/experiment/{experiment_id}/add-manual-row", {"inputs": {"city": "Paris"}}
        )
        await api.post(
            f"/v2/experiment/{experiment_id}/add-manual-rows-batch",
            {"inputs": [{"city": "Rome"}, {"city": "Oslo"}]},
        )
        await api.post(
            f"/v2/experiment/{experiment_id}/row/insert/batch",
            {"rows": [{"inputs": {"city": "Lima"}, "autoInputs": [], "inputRecordId": paris}]},
        )
        await api.post(
            f"/v2/experiment/{experiment_id}/row/update",
            {"inputRecordId": paris, "inputs": {"city": "Lyon"}},
        )
        rows = (await api.get(f"/v2/experiment/{experiment_id}"))["rows"]
        assert [r["inputs"]["city"] for r in rows] == ["Lyon", "Rome", "Oslo", "Lima"]
        await api.call(
            "DELETE", f"/v2/experiment/{experiment_id}/rows", {"inputRecordIds": [rows[3]["id"]]}
        )
        await api.post(
            f"/v2/experiment/{experiment_id}/row/update",
            {"inputRecordId": rows[3]["id"], "inputs": {}},
            status=404,
        )

        details = await api.get(f"/v2/experiment/{experiment_id}")
        original = details["copied_original_prompt_version"]
        assert original != version
        extra = await api.post(
            f"/v2/experiment/{experiment_id}/prompt-version",
            {
                "parentPromptVersionId": original,
                "newHeliconeTemplate": {
                    **TEMPLATE,
                    "messages": [
                        {"role": "user", "content": '<helicone-prompt-input key="country" />'}
                    ],
                },
            },
        )
        assert (extra["major_version"], extra["minor_version"]) == (0, 2)
        assert await api.get(f"/v2/experiment/{experiment_id}/input-keys") == ["city", "country"]
        versions = await api.get(f"/v2/experiment/{experiment_id}/prompt-versions")
        assert [v["id"] for v in versions] == [original, extra["id"]]
        await api.call("DELETE", f"/v2/experiment/{experiment_id}/prompt-version/{extra['id']}")
        versions = await api.get(f"/v2/experiment/{experiment_id}/prompt-versions")
        assert [v["id"] for v in versions] == [original]

        # Runs compile the template with the row's inputs.
        request_id = await api.post(
            f"/v2/experiment/{experiment_id}/run-hypothesis",
            {"inputRecordId": paris, "promptVersionId": original},
        )
        sent = await api.get(f"/v1/request/{request_id}")
        assert sent["request_body"]["messages"][1]["content"] == "Tell me about Lyon."
        await api.post(
            f"/v2/experiment/{experiment_id}/run-hypothesis",
            {"inputRecordId": "nope", "promptVersionId": original},
            status=404,
        )
        await api.call("DELETE", f"/v2/experiment/{experiment_id}")
        await api.get(f"/v2/experiment/{experiment_id}", 404)
        assert await api.get("/v2/experiment") == []


async def test_a_provider_error_marks_the_cell_failed_and_keeps_the_row(
    helioscope: Running,
) -> None:
    broken = {**TEMPLATE, "model": "fake-error-500"}
    async with Api(helioscope) as api:
        version = await new_prompt(api, "broken", broken)
        experiment_id = (
            await api.post("/v2/experiment/new", {"name": "b", "originalPromptVersion": version})
        )["experimentId"]
        await api.post(
            f"/v2/experiment/{experiment_id}/add-manual-rows-batch",
            {"inputs": [{"city": "Paris"}, {"city": "Rome"}]},
        )
        assert await api.post(f"/v2/experiment/{experiment_id}/run", {}) == {"cells": 2}
        status = await wait_for_run(api, experiment_id)
        assert (status["total"], status["succeeded"], status["failed"]) == (2, 0, 2)
        rows = (await api.get(f"/v2/experiment/{experiment_id}"))["rows"]
        assert len(rows) == 2
        for row in rows:
            (cell,) = row["requests"]
            assert cell["status"] == "failed"
            assert cell["error"] == "provider answered 500: fake error 500"
            logged = await api.get(f"/v1/request/{cell['request_id']}")
            assert logged["response_status"] == 500  # the failed call is logged too


async def test_new_experiments_and_isolation(helioscope: Running) -> None:
    request_id = await log_call(helioscope, "hello there")
    _, other_key = await helioscope.add_org("other")
    async with Api(helioscope) as api, Api(helioscope, other_key) as other:
        empty = (await api.post("/v2/experiment/create/empty"))["experimentId"]
        details = await api.get(f"/v2/experiment/{empty}")
        assert details["rows"] == [] and details["copied_original_prompt_version"]
        from_request = (await api.post(f"/v2/experiment/create/from-request/{request_id}"))[
            "experimentId"
        ]
        (row,) = (await api.get(f"/v2/experiment/{from_request}"))["rows"]
        assert row["auto_prompt_inputs"] == [{"role": "user", "content": "hello there"}]

        version = await new_prompt(api)
        minor = details["copied_original_prompt_version"]
        error = await api.post(
            "/v2/experiment/new", {"name": "x", "originalPromptVersion": minor}, status=400
        )
        assert "major version" in error
        await api.post("/v2/experiment/new", {"name": "x", "originalPromptVersion": "no"}, 404)

        await other.get(f"/v2/experiment/{empty}", 404)
        assert await other.get("/v2/experiment") == []
        await other.post(f"/v2/experiment/create/from-request/{request_id}", status=404)
        await other.post(
            "/v2/experiment/new", {"name": "x", "originalPromptVersion": version}, status=404
        )
        await other.post(f"/v2/experiment/{empty}/add-manual-row", {"inputs": {}}, status=404)


async def test_hostile_code_evaluators_are_stopped_and_reported(
    helioscope: Running, tmp_path: Path
) -> None:
    db_file = helioscope.services.store.sqlite_file
    if db_file is None:  # PostgreSQL: any file the server can read stands in for the database
        db_file = tmp_path / "secret.db"
        db_file.write_text("secret")
    hostile = {
        "Loops": "while True:\n    pass",
        "Hogs": "blob = bytearray(1024 * 1024 * 1024)\nprint(1)",
        "Snoops": f"print(len(open({str(db_file)!r}, 'rb').read()))",
    }
    async with Api(helioscope) as api:
        version = await new_prompt(api)
        experiment_id = (
            await api.post("/v2/experiment/new", {"name": "h", "originalPromptVersion": version})
        )["experimentId"]
        row = await api.post(
            f"/v2/experiment/{experiment_id}/add-manual-row", {"inputs": {"city": "Paris"}}
        )
        details = await api.get(f"/v2/experiment/{experiment_id}")
        request_id = await api.post(
            f"/v2/experiment/{experiment_id}/run-hypothesis",
            {"inputRecordId": row, "promptVersionId": details["copied_original_prompt_version"]},
        )
        for name, code in hostile.items():
            created = await api.post(
                "/v1/evaluator", {"name": name, "scoring_type": "NUMERIC", "code_template": code}
            )
            await api.post(
                f"/v2/experiment/{experiment_id}/evaluators", {"evaluatorId": created["id"]}
            )
        await api.post(f"/v2/experiment/{experiment_id}/evaluators/run")
        status = await api.get(f"/v2/experiment/{experiment_id}/run/status")
        errors = sorted(status["evaluatorErrors"])
        assert len(errors) == 3, errors
        assert errors[0].startswith("Hogs") and "memory limit of 128 MB exceeded" in errors[0]
        assert errors[1].startswith("Loops") and "time limit of 3 s exceeded" in errors[1]
        assert errors[2].startswith("Snoops") and "PermissionError" in errors[2]
        assert (await api.get(f"/v1/request/{request_id}"))["scores"] == {}
        assert status["unscoredOutputs"] == 3  # still unscored: nothing was made up


async def test_a_prompt_lists_the_experiments_on_its_versions(helioscope: Running) -> None:
    async with Api(helioscope) as api:
        created = await api.post(
            "/v1/prompt/create", {"userDefinedId": "listed", "prompt": TEMPLATE, "metadata": {}}
        )
        other = await new_prompt(api, "unrelated")
        assert await api.get(f"/v1/prompt/{created['id']}/experiments") == []
        experiment_id = (
            await api.post(
                "/v2/experiment/new",
                {"name": "on listed", "originalPromptVersion": created["prompt_version_id"]},
            )
        )["experimentId"]
        await api.post("/v2/experiment/new", {"name": "elsewhere", "originalPromptVersion": other})
        listed = await api.get(f"/v1/prompt/{created['id']}/experiments")
        assert [(e["id"], e["dataset"], e["meta"]) for e in listed] == [(experiment_id, "", {})]
        versions = await api.get(f"/v2/experiment/{experiment_id}/prompt-versions")
        assert listed[0]["num_hypotheses"] == len(versions)
        await api.post(
            f"/v2/experiment/{experiment_id}/prompt-version",
            {"parentPromptVersionId": versions[0]["id"], "newHeliconeTemplate": TEMPLATE},
        )
        again = await api.get(f"/v1/prompt/{created['id']}/experiments")
        assert again[0]["num_hypotheses"] == len(versions) + 1
