"""The embedded ClickHouse (chdb), served to this machine's other processes over HTTP.

chdb runs one engine per process and locks its directory: a second process cannot open it.
``serve --workers N`` and ``--writer-process`` still keep the log in one chdb directory: the
process that runs the log writer opens it, and answers the other processes' queries on a
loopback socket that the supervisor bound (so they can connect before it is up). They reach it
as they would a ClickHouse server, through the same ``http://`` client: nothing else in the
store knows the difference.

It is enough of the interface for clickhouse-connect: queries with ``param_*`` values and
settings as URL parameters or multipart form fields, results in the format the query names,
``INSERT … FORMAT Native`` bodies (lz4/zstd compressed or not, chunked or not), errors as HTTP
500 with ``X-ClickHouse-Exception-Code``, ``/ping``. Every request must carry the password
the supervisor handed both sides (HTTP basic auth, user ``SERVED_USER``): a loopback port is
reachable by any local user, and the log is everyone's requests.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import queue
import re
import shutil
import socket
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

from helioscope.store.clickhouse._url import SERVED_USER

# URL parameters the HTTP layer consumes itself (not server settings).
_TRANSPORT = frozenset(
    {
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
        "user",
        "password",
    }
)
_FORMAT = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE)
_INSERT_NATIVE = re.compile(rb"^\s*(INSERT\s+INTO\s+.+?\s+FORMAT\s+Native)\s*\n", re.I | re.S)
_SETTING = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CODE = re.compile(r"Code: (\d+)")
AUTHENTICATION_FAILED = 516  # ClickHouse's code for a wrong user or password
_AUTHENTICATION_FAILED = (
    "Code: 516. DB::Exception: {user}: Authentication failed: password is incorrect, or there "
    "is no user with such name. (AUTHENTICATION_FAILED)\n"
)


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


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class _Engine:
    """One chdb connection: a session, used by one request at a time (as a handle must be).

    USE and SET stay on a session until changed. Every client is a Helioscope process sending
    the same session settings, so each is SET only when it differs from what the session has
    (six statements a query otherwise), and one a request does not carry is set back to its
    default: no request sees another's.
    """

    def __init__(self, path: str, spool: Path, readonly: int = 0) -> None:
        self.conn = chdb.connect(path)
        if readonly:  # (ChdbServer's ``readonly``)
            self.conn.query(f"SET readonly = {int(readonly)}", "TabSeparated")
        self.spool = spool
        self._database: str | None = None
        self._settings: dict[str, str] = {}

    def run(self, query: str, data: bytes, params: dict[str, str]) -> tuple[bytes, str]:
        database = params.get("database")
        binds = {k.removeprefix("param_"): v for k, v in params.items() if k.startswith("param_")}
        settings = {
            k: v
            for k, v in params.items()
            if k not in _TRANSPORT and not k.startswith("param_") and _SETTING.match(k)
        }
        if database and database != self._database:
            self.conn.query(f"USE `{database.replace('`', '')}`", "TabSeparated")
            self._database = database
        for name in [name for name in self._settings if name not in settings]:
            self.conn.query(f"SET {name} = DEFAULT", "TabSeparated")
            del self._settings[name]
        for name, value in settings.items():
            if self._settings.get(name) != value:
                self.conn.query(f"SET {name} = {_quoted(value)}", "TabSeparated")
                self._settings[name] = value
        if data:
            return self._insert(query, data), "Native"
        fmt = _FORMAT.search(query)
        output = fmt.group(1) if fmt else "TabSeparated"
        sql = query[: fmt.start()] if fmt else query
        result = self.conn.query(sql, output, params=binds)
        return result.bytes(), output

    def _insert(self, query: str, data: bytes) -> bytes:
        # chdb reads binary input from a file, as clickhouse-connect's own chdb backend does.
        with tempfile.NamedTemporaryFile(dir=self.spool, suffix=".native") as file:
            file.write(data)
            file.flush()
            statement = _FORMAT.sub("", query).strip()
            self.conn.query(
                f"{statement} FROM INFILE {_quoted(file.name)} FORMAT Native", "TabSeparated"
            )
        return b""


class _Closed(Exception):
    """The engines are closed: the request gets no answer (its client retries elsewhere)."""


class _Engines:
    """Up to ``size`` sessions on one chdb engine: requests run in parallel, one a session.

    One session behind one lock ran every worker's query one at a time (a ``SELECT 1`` waited
    2.8 s behind a 3 s query); chdb runs separate connections to one path in parallel.
    """

    def __init__(self, path: str, size: int = 4, readonly: int = 0) -> None:
        self.path = path
        self.size = size
        self.readonly = readonly
        self.spool = Path(tempfile.mkdtemp(prefix="helioscope-chdb-"))
        self.closed = False
        self._idle: queue.LifoQueue[_Engine] = queue.LifoQueue()
        self._made = 0
        self._lock = threading.Lock()

    @contextmanager
    def session(self) -> Iterator[_Engine]:
        """An idle session (a new one while fewer than ``size`` exist; else wait for one)."""
        engine = self._take()
        try:
            yield engine
        finally:
            with self._lock:
                if self.closed:
                    engine.conn.close()
                else:
                    self._idle.put(engine)

    def _take(self) -> _Engine:
        with self._lock:
            if self.closed:
                raise _Closed
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                pass
            if self._made < self.size:
                self._made += 1
                return _Engine(self.path, self.spool, self.readonly)
        engine = self._idle.get()
        if self.closed:
            engine.conn.close()
            raise _Closed
        return engine

    def close(self) -> None:
        """Close every idle session now, and each busy one when its request ends."""
        with self._lock:
            self.closed = True
            while not self._idle.empty():
                self._idle.get_nowait().conn.close()
        shutil.rmtree(self.spool, ignore_errors=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the clients pool their connections
    timeout = 60  # an idle connection (or one that never sends a request) is let go
    engines: _Engines
    authorization: str

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _credentials(self) -> str:
        """``user:password`` as the request gives them ("" if it gives none that can be read)."""
        given = self.headers.get("Authorization", "")
        if given.startswith("Basic "):
            try:
                return base64.b64decode(given[6:], validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return ""
        user = self.headers.get("X-ClickHouse-User", "")
        return f"{user}:{self.headers.get('X-ClickHouse-Key', '')}"

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        chunks = []  # inserts stream their blocks as they are built
        while size := int(self.rfile.readline().split(b";")[0], 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        self.rfile.readline()
        return b"".join(chunks)

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, code: int, message: str) -> None:
        headers = {"X-ClickHouse-Exception-Code": str(code)}
        self._send(status, message.encode(), {**headers, "Content-Type": "text/plain"})

    def _answer(self) -> None:
        url = urlsplit(self.path)
        given = self._credentials()
        if not hmac.compare_digest(given.encode(), self.authorization.encode()):
            self.close_connection = True  # without reading the body: it is not ours to take
            # As a ClickHouse server answers (403, code 516, naming the user), so that a client
            # meets a wrong password here as it would there.
            user = given.partition(":")[0] or "default"
            self._error(403, AUTHENTICATION_FAILED, _AUTHENTICATION_FAILED.format(user=user))
            return
        body = _decoded(self._body(), self.headers.get("Content-Encoding"))
        if url.path == "/ping":
            self._send(200, b"Ok.\n", {"Content-Type": "text/plain"})
            return
        params = dict(parse_qsl(url.query, keep_blank_values=True))
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
            with self.engines.session() as engine:
                payload, fmt = engine.run(query, data, params)
        except _Closed:
            # Stopping: no answer, and the connection dropped, so that the client's retry
            # waits in the socket's backlog for the next process to serve it.
            self.close_connection = True
            return
        except Exception as exc:  # a failed statement is the client's answer, as on a server
            message = str(exc)
            code = _CODE.search(message)
            self._error(500, int(code.group(1)) if code else 1000, message)
            return
        headers = {
            "X-ClickHouse-Format": fmt,
            "X-ClickHouse-Timezone": "UTC",
            "X-ClickHouse-Summary": json.dumps({"read_rows": "0"}),
        }
        self._send(200, payload, headers)


class ChdbServer:
    """chdb at ``path`` answering ClickHouse's HTTP interface on ``sock`` (already listening).

    ``readonly`` (0, 1 or 2) is ClickHouse's setting of that name on every session: the served
    user is then what a server's read-only user is (1: no writes and no settings changed; 2:
    no writes), refused by chdb itself with ClickHouse's own errors (code 164, READONLY). No
    ClickHouse server can be run here: it is how tests meet such a user.
    """

    def __init__(self, path: str, sock: socket.socket, password: str, *, readonly: int = 0) -> None:
        self._engines = _Engines(path, readonly=readonly)

        class Handler(_Handler):
            engines = self._engines
            authorization = f"{SERVED_USER}:{password}"

        server = ThreadingHTTPServer(sock.getsockname()[:2], Handler, bind_and_activate=False)
        server.socket.close()
        server.socket = sock
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="helioscope-chdb-http", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        port: int = self._server.server_address[1]
        return port

    def close(self) -> None:
        """Stop answering (requests on connections still open get none), close the sessions.

        The socket is closed here, not in the other processes that hold it.
        """
        self._engines.close()
        self._server.shutdown()
        self._server.server_close()
