"""Runs of many cells keep at most ``experiment_concurrency`` calls in flight."""

from __future__ import annotations

import pytest

from helioscope import Settings
from helioscope.testing import FakeProvider
from tests.conftest import Running
from tests.experiments.helpers import Api
from tests.experiments.test_experiment_e2e import wait_for_run
from tests.experiments.test_experiments import TEMPLATE, new_prompt


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"experiment_concurrency": 2})


async def test_a_run_keeps_its_bound(helioscope: Running, fake: FakeProvider) -> None:
    async with Api(helioscope) as api:
        version = await new_prompt(api, "slow", {**TEMPLATE, "model": "fake-delay-150"})
        experiment_id = (
            await api.post("/v2/experiment/new", {"name": "s", "originalPromptVersion": version})
        )["experimentId"]
        await api.post(
            f"/v2/experiment/{experiment_id}/add-manual-rows-batch",
            {"inputs": [{"city": str(i)} for i in range(6)]},
        )
        assert await api.post(f"/v2/experiment/{experiment_id}/run", {}) == {"cells": 6}
        status = await api.get(f"/v2/experiment/{experiment_id}/run/status")
        assert status["running"] is True
        status = await wait_for_run(api, experiment_id)
        assert (status["succeeded"], status["failed"]) == (6, 0)
    assert fake.peak_chat_calls == 2
