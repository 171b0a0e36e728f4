"""Names vulture reports as unused that are used: called by a framework, or named in a string.

``scripts/dead_code.py`` ignores these names; give each its reason.
"""

CALLED_BY_NAME: dict[str, str] = {
    # asyncio.Protocol callbacks (the upstream client's connection, the load generator)
    "connection_made": "asyncio.Protocol",
    "data_received": "asyncio.Protocol",
    "eof_received": "asyncio.Protocol",
    "connection_lost": "asyncio.Protocol",
    # httptools parser callbacks
    "on_message_begin": "httptools",
    "on_header": "httptools",
    "on_headers_complete": "httptools",
    "on_body": "httptools",
    "on_message_complete": "httptools",
    # PEP 562: a module's attributes looked up lazily (helioscope.create_app)
    "__getattr__": "Python's module attribute lookup",
    # framework hooks overridden in subclasses
    "render": "starlette.responses.JSONResponse",
    "process_bind_param": "sqlalchemy.types.TypeDecorator",
    "process_result_value": "sqlalchemy.types.TypeDecorator",
    "main_loop": "uvicorn.Server",
    # http.server's request handler and server read these (store/clickhouse/_serve.py)
    "close_connection": "http.server.BaseHTTPRequestHandler",
    "daemon_threads": "socketserver.ThreadingMixIn",
    "on_response_complete": "uvicorn's HttpToolsProtocol (its cycle calls it back)",
    # SQLAlchemy's compiler dispatches visit_<name> by the construct's name (our ClickHouse SQL)
    "visit_*": "sqlalchemy.sql.compiler.SQLCompiler",
    "limit_clause": "sqlalchemy.sql.compiler.SQLCompiler",
    "for_update_clause": "sqlalchemy.sql.compiler.SQLCompiler",
    "_quantiles_exact": "sqlalchemy.ext.compiler.compiles (renders QuantilesExact)",
    "server_side_params": "clickhouse_connect's SQLAlchemy dialect (bench/clickhouse_dialects.py)",
    # http.server.BaseHTTPRequestHandler dispatches do_<METHOD> (the test ClickHouse HTTP server)
    "do_*": "http.server.BaseHTTPRequestHandler",
    "log_message": "http.server.BaseHTTPRequestHandler",
    "capture_signals": "uvicorn.Server",
    "tell": "a file object's protocol (pyarrow's Parquet writer calls it)",
    # imported for their side effect: each registers its tables on the shared metadata
    "_schema_*": "helioscope.store._all_tables",
    # named in a string: HELIOSCOPE_PROMPT_INJECTION_DETECTOR=tests.gateway_controls.detectors:...
    "pineapple": "tests/gateway_controls",
    "_split_scope": "xdist's LoadScopeScheduling (tests/scheduling.py)",
}
