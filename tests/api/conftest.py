"""Fixtures of the REST API's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from helioscope import Settings
from tests.api.inprocess import InProcess, in_process


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[InProcess]:
    """The app in this process over the test's settings (a module may override ``settings``)."""
    async with in_process(settings) as running:
        yield running
