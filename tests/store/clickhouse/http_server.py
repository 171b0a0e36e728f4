"""A loopback server that speaks ClickHouse's HTTP interface, answered by chdb.

No ClickHouse server can be installed here, so this stands in for one: enough of the
interface for clickhouse-connect's ``http://`` client (queries with ``param_*`` values and
settings as URL parameters or form fields, results in the format the query names, INSERT …
FORMAT Native bodies, lz4/zstd request bodies, errors as HTTP 500 with
``X-ClickHouse-Exception-Code``).
Every statement runs on the test session's chdb engine.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import chdb
from clickhouse_connect.driver import compression

# URL parameters the HTTP layer consumes itself (not server settings).
_TRANSPORT = {
    "query",
    "database",
    "session_id",
    "session_timeout",
    "session_check",
    "query_id",
    "quota_key",
    "compress",
    "decompress",
    "wait_end_of_query",
    "client_protocol_version",
    "send_progress_in_http_headers",
    "http_headers_progress_interval_ms",
    "enable_http_compression",
    "default_format",
}
_FORMAT = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE)
_INSERT_NATIVE = re.compile(rb"^\s*(INSERT\s+INTO\s+.+?\s+FORMAT\s+Native)\s*\n", re.I | re.S)
_SETTING = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _decoded(body: bytes, encoding: str | None) -> bytes:
    if encoding == "lz4":
        # lz4.frame, as the client compresses (its module is untyped: reached through Any).
        lz4: Any = compression
        decompressed: bytes = lz4._require_lz4().decompress(body)
        return decompressed
    if encoding == "zstd":
        return bytes(compression._zstd_decompress(body))
    return body


def _form_fields(content_type: str, body: bytes) -> dict[str, str]:
    message = BytesParser(policy=policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload.decode()
    return fields


class _Engine:
    """One chdb connection, used by one request at a time (as a handle must be)."""

    def __init__(self, path: Path) -> None:
        self.conn = chdb.connect(str(path))
        self.lock = threading.Lock()
        self.spool = Path(tempfile.mkdtemp(prefix="ch-http-"))

    def run(self, query: str, data: bytes, params: dict[str, str]) -> tuple[bytes, str]:
        database = params.get("database")
        binds = {k.removeprefix("param_"): v for k, v in params.items() if k.startswith("param_")}
        settings = {
            k: v for k, v in params.items() if k not in _TRANSPORT and not k.startswith("param_")
        }
        with self.lock:
            if database:
                self.conn.query(f"USE `{database}`", "TabSeparated")
            for name, value in settings.items():
                if _SETTING.match(name):
                    quoted = value.replace("\\", "\\\\").replace("'", "\\'")
                    self.conn.query(f"SET {name} = '{quoted}'", "TabSeparated")
            if data:
                return self._insert(query, data), "Native"
            fmt = _FORMAT.search(query)
            output = fmt.group(1) if fmt else "TabSeparated"
            sql = query[: fmt.start()] if fmt else query
            result = self.conn.query(sql, output, params=binds)
        return result.bytes(), output

    def _insert(self, query: str, data: bytes) -> bytes:
        # chdb takes binary input from a file, as clickhouse-connect's own chdb backend does.
        with tempfile.NamedTemporaryFile(dir=self.spool, suffix=".native") as file:
            file.write(data)
            file.flush()
            statement = _FORMAT.sub("", query).strip()
            self.conn.query(f"{statement} FROM INFILE '{file.name}' FORMAT Native", "TabSeparated")
        return b""


class _Handler(BaseHTTPRequestHandler):
    engine: _Engine

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        chunks = []  # inserts stream their blocks as they are built
        while size := int(self.rfile.readline().split(b";")[0], 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        self.rfile.readline()
        return b"".join(chunks)

    def _answer(self) -> None:
        params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        body = _decoded(self._body(), self.headers.get("Content-Encoding"))
        if self.headers.get_content_type() == "multipart/form-data":
            # Queries with long parameters (an IN list) arrive as form fields.
            params.update(_form_fields(self.headers.get("Content-Type", ""), body))
            body = b""
        query, data = params.get("query", ""), b""
        if query:
            data = body
        else:
            insert = _INSERT_NATIVE.match(body)
            if insert:
                query, data = insert.group(1).decode(), body[insert.end() :]
            else:
                query = body.decode()
        try:
            payload, fmt = self.engine.run(query, data, params)
        except Exception as exc:  # the server answers any failure as ClickHouse does
            message = str(exc)
            code = re.search(r"Code: (\d+)", message)
            self.send_response(500)
            self.send_header("X-ClickHouse-Exception-Code", code.group(1) if code else "1000")
            self.send_header("Content-Type", "text/plain; charset=UTF-8")
            payload = message.encode()
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.send_response(200)
        self.send_header("X-ClickHouse-Format", fmt)
        self.send_header("X-ClickHouse-Timezone", "UTC")
        self.send_header("X-ClickHouse-Summary", json.dumps({"read_rows": "0"}))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@contextmanager
def clickhouse_http(path: Path) -> Iterator[int]:
    """Serve ClickHouse's HTTP interface over the chdb engine at ``path``; yields the port."""
    engine = _Engine(path)

    class Handler(_Handler):
        pass

    Handler.engine = engine
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        engine.conn.close()
