"""A loopback ClickHouse HTTP interface over the test session's chdb engine.

No ClickHouse server can be installed here: the tests' ``http://`` path talks to the same
server that ``serve --workers`` runs in front of an embedded chdb (``store/clickhouse/_serve``).
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import threading
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


class _CuttingProxy:
    """Relays loopback connections to ``upstream``; cuts the first to send ``marker``."""

    def __init__(self, upstream: int, marker: bytes) -> None:
        self.upstream = upstream
        self.marker = marker
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.cut = threading.Event()
        self.sockets: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed: the proxy stops
                return
            server = socket.create_connection(("127.0.0.1", self.upstream))
            self.sockets.extend((client, server))
            for args in ((client, server, True), (server, client, False)):
                threading.Thread(target=self._pump, args=args, daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, watch: bool) -> None:
        seen = b""
        try:
            while chunk := source.recv(65536):
                seen = seen[-len(self.marker) :] + chunk
                if watch and not self.cut.is_set() and self.marker in seen:
                    self.cut.set()
                    break
                sink.sendall(chunk)
        except OSError:
            pass
        _shut(source, sink)

    def close(self) -> None:
        _shut(*self.sockets)
        for sock in self.sockets:
            sock.close()


def _shut(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


@contextmanager
def cutting_proxy(upstream: int, marker: bytes) -> Iterator[int]:
    """A loopback port relaying to ``upstream`` that cuts the first connection to send ``marker``.

    Both ways, before the part of the request that carries it reaches the server: a connection
    dropped mid-call (the server restarted, a proxy before it timed out), while the server
    answers every other. Yields the port.
    """
    proxy = _CuttingProxy(upstream, marker)
    try:
        yield proxy.port
    finally:
        proxy.close()
