"""Insights tests: webhooks may use plain http to loopback, retry fast, and alerts run on demand."""

from __future__ import annotations

import pytest

from helioscope import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allow_http_loopback": True,
            "webhook_retry_seconds": 0.05,
            "webhook_timeout_seconds": 5.0,
            "alert_check_seconds": 0,
        }
    )
