"""A loopback ClickHouse HTTP interface over the test session's chdb engine.

No ClickHouse server can be installed here: the tests' ``http://`` path talks to the same
server that ``serve --workers`` runs in front of an embedded chdb (``store/clickhouse/_serve``).
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from helioscope.store.clickhouse._serve import ChdbServer
from helioscope.store.clickhouse._url import served_url


@contextmanager
def clickhouse_http(path: Path) -> Iterator[str]:
    """Serve chdb at ``path``; yields ``http://user:password@127.0.0.1:port`` (no database)."""
    sock = socket.create_server(("127.0.0.1", 0))
    password = secrets.token_urlsafe(16)
    server = ChdbServer(str(path), sock, password)
    try:
        yield served_url(server.port, password, "").removesuffix("/")
    finally:
        server.close()
