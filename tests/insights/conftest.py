"""Insights tests: webhooks use plain http to loopback receivers, retry fast; alerts on demand."""

from __future__ import annotations

import pytest

from helioscope import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allow_http_loopback": True,
            # The receivers listen on loopback ports the OS picks: allowed the documented way.
            "allowed_private_targets": "http://127.0.0.1:*",
            "webhook_retry_seconds": 0.05,
            "webhook_timeout_seconds": 5.0,
            "alert_check_seconds": 0,
        }
    )
