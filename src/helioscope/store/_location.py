"""How a store's location is shown to people: never with its password."""

from __future__ import annotations

from sqlalchemy.engine import URL

from helioscope.store._engine import sqlite_path


def describe_url(url: URL) -> str:
    """``SQLite file /abs/path.db``, or ``PostgreSQL postgresql://user:***@host:5432/db``."""
    path = sqlite_path(url)
    if path is not None:
        return f"SQLite file {path.resolve()}"
    if url.get_backend_name() == "sqlite":
        return "SQLite in memory"
    shown = url.set(drivername=url.get_backend_name())
    return f"PostgreSQL {shown.render_as_string(hide_password=True)}"
