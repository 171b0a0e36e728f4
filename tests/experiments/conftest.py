from __future__ import annotations

import pytest
from pydantic import SecretStr

from helioscope import Settings

EXPERIMENT_KEY = "sk-experiment-secret-4242"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings, with a provider key for experiment and judge calls."""
    return settings.model_copy(
        update={
            "experiment_openai_api_key": SecretStr(EXPERIMENT_KEY),
            "evaluator_timeout_seconds": 3.0,
            "evaluator_memory_mb": 128,
        }
    )
