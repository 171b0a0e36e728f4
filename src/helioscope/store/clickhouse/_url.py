"""``HELIOSCOPE_CLICKHOUSE_URL``: which ClickHouse holds the request log, and how to reach it.

Two forms, one client library (clickhouse-connect) behind both:

- ``chdb:///var/lib/helioscope/clickhouse`` runs ClickHouse inside the server process (chdb);
  ``chdb://relative/dir`` is relative to the working directory and ``chdb://:memory:`` keeps
  nothing. ``?database=name`` picks the database (default ``helioscope``).
- ``http://user:pass@host:8123/db`` or ``https://…:8443/db`` talks to a ClickHouse server or
  ClickHouse Cloud over its HTTP interface (database default ``default``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from helioscope.errors import BadRequest

SETTING = "HELIOSCOPE_CLICKHOUSE_URL"
CHDB_DATABASE = "helioscope"
MEMORY = ":memory:"
_DEFAULT_PORTS = {"http": 8123, "https": 8443}
# A database name is spliced into DDL (CREATE DATABASE cannot bind it): identifiers only.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True, slots=True)
class ClickHouseUrl:
    """A parsed ``HELIOSCOPE_CLICKHOUSE_URL``; ``path`` is set for chdb, ``host`` for HTTP."""

    kind: Literal["chdb", "http"]
    database: str
    path: str | None = None
    host: str | None = None
    port: int | None = None
    username: str = "default"
    password: str = ""
    secure: bool = False

    @classmethod
    def parse(cls, raw: str) -> ClickHouseUrl:
        """Parse a user's URL; a 400-style error names the setting and what is wrong."""
        parts = urlsplit(raw.strip())
        options = parse_qs(parts.query)
        if parts.scheme == "chdb":
            location = unquote(parts.netloc + parts.path)
            database = options.get("database", [CHDB_DATABASE])[0]
            return cls("chdb", _database(database, raw), path=location or MEMORY)
        if parts.scheme in _DEFAULT_PORTS:
            try:
                port = parts.port
            except ValueError as exc:
                raise BadRequest(f"{SETTING} has a bad port: {raw!r} ({exc})") from None
            if not parts.hostname:
                raise BadRequest(f"{SETTING} names no host: {raw!r}")
            return cls(
                "http",
                _database(unquote(parts.path.strip("/")) or "default", raw),
                host=parts.hostname,
                port=port or _DEFAULT_PORTS[parts.scheme],
                username=unquote(parts.username or "default"),
                password=unquote(parts.password or ""),
                secure=parts.scheme == "https",
            )
        raise BadRequest(
            f"{SETTING} must be chdb:///dir or http(s)://user:pass@host:8123/db, "
            f"got scheme {parts.scheme!r}"
        )

    def redacted(self) -> str:
        """The URL without its password, for logs and messages."""
        if self.kind == "chdb":
            return f"chdb://{self.path}?database={self.database}"
        scheme = "https" if self.secure else "http"
        return f"{scheme}://{self.username}@{self.host}:{self.port}/{self.database}"


# The user by which ``serve --workers`` processes reach the one that serves chdb
# (``_serve``); the password is the supervisor's, made anew at each start.
SERVED_USER = "helioscope"


def served_url(port: int, password: str, database: str) -> str:
    """The ``HELIOSCOPE_CLICKHOUSE_URL`` by which another process reaches a served chdb."""
    return f"http://{SERVED_USER}:{password}@127.0.0.1:{port}/{database}"


def _database(name: str, raw: str) -> str:
    if not _IDENTIFIER.match(name):
        raise BadRequest(
            f"{SETTING}: {name!r} is not a database name (letters, digits, _): {raw!r}"
        )
    return name
