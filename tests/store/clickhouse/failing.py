"""A step of the writer that fails once, as a crash or an outage there would."""

from __future__ import annotations

from typing import Any

import pytest

from helioscope.store.clickhouse import ClickHouseUnavailable


def fail_once(monkeypatch: pytest.MonkeyPatch, owner: object, name: str, message: str) -> None:
    """The next call of the coroutine function ``owner.name`` raises ``ClickHouseUnavailable``
    (``message``); the calls after it run as before."""
    real = getattr(owner, name)

    async def failing(*args: Any) -> None:
        monkeypatch.setattr(owner, name, real)
        raise ClickHouseUnavailable(message)

    monkeypatch.setattr(owner, name, failing)
