"""The log's tables in ClickHouse, for one server or a cluster (the choices: ``README.md``).

Each table but the hourly rollup is a ReplacingMergeTree: a row is never updated in place, it
is inserted again with a newer version column, and reads use FINAL (``_sql.REPLACING_TABLES``)
to see only the newest version. A replayed batch therefore leaves one row per key, as ``ON
CONFLICT DO UPDATE`` does on SQLite and PostgreSQL. The rollup is a SummingMergeTree of signed
deltas, which FINAL sums.

With ``cluster`` set (``HELIOSCOPE_CLICKHOUSE_CLUSTER``), every statement runs ``ON CLUSTER``,
each table is a Replicated table named ``<table>_local`` on every node, and ``<table>`` is a
Distributed table over them, sharded by the row's key so that a row's versions meet on one
shard (where FINAL can merge them). Queries name ``<table>`` either way.
"""

from __future__ import annotations

from dataclasses import dataclass

# (name, type, codec). Hot columns (what filters and aggregates read) keep ClickHouse's
# default LZ4: the fastest to decompress. Timestamps are delta-coded (they arrive nearly
# sorted). Bodies, most of the bytes, take ZSTD(1): 39% smaller than LZ4 over the benchmark's
# bodies, as small as ZSTD(3), and cheaper to write than ZSTD(3) (README: numbers).
LOG_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("organization_id", "LowCardinality(String)", None),
    ("request_id", "String", None),
    ("request_created_at", "DateTime64(6, 'UTC')", "Delta, ZSTD(1)"),
    ("response_created_at", "Nullable(DateTime64(6, 'UTC'))", "Delta, ZSTD(1)"),
    ("latency", "Nullable(Int64)", None),
    ("time_to_first_token", "Nullable(Int64)", None),
    ("status", "Int32", None),
    ("provider", "LowCardinality(String)", None),
    ("model", "LowCardinality(String)", None),
    ("request_model", "LowCardinality(Nullable(String))", None),
    ("response_model", "LowCardinality(Nullable(String))", None),
    ("model_override", "LowCardinality(Nullable(String))", None),
    ("user_id", "Nullable(String)", None),
    ("target_url", "LowCardinality(Nullable(String))", None),
    ("path", "LowCardinality(Nullable(String))", None),
    ("is_stream", "Bool", None),
    ("prompt_tokens", "Nullable(Int64)", None),
    ("completion_tokens", "Nullable(Int64)", None),
    ("total_tokens", "Nullable(Int64)", None),
    ("prompt_cache_read_tokens", "Nullable(Int64)", None),
    ("prompt_cache_write_tokens", "Nullable(Int64)", None),
    ("reasoning_tokens", "Nullable(Int64)", None),
    ("prompt_audio_tokens", "Nullable(Int64)", None),
    ("completion_audio_tokens", "Nullable(Int64)", None),
    ("cost", "Nullable(Int64)", None),  # USD x 1e9, as on SQLite/PostgreSQL and in Helicone
    ("cache_enabled", "Bool", None),
    ("cache_reference_id", "Nullable(String)", None),
    ("threat", "Nullable(Bool)", None),
    ("country_code", "LowCardinality(Nullable(String))", None),
    ("properties", "Map(LowCardinality(String), String)", None),
    ("scores", "Map(LowCardinality(String), Float64)", None),
    ("prompt_id", "Nullable(String)", None),
    ("prompt_version", "Nullable(String)", None),
    ("request_body_size", "Nullable(Int64)", None),
    ("response_body_size", "Nullable(Int64)", None),
    ("request_referrer", "Nullable(String)", None),
    ("helicone_api_key_id", "Nullable(Int64)", None),
    ("error", "Nullable(String)", "ZSTD(1)"),
    ("updated_at", "DateTime64(6, 'UTC')", None),
    ("session_id", "Nullable(String)", None),
    ("session_name", "Nullable(String)", None),
    ("session_path", "Nullable(String)", None),
    ("prompt_inputs", "Nullable(String)", "ZSTD(1)"),  # a JSON object, as text
    ("request_body", "Nullable(String)", "ZSTD(1)"),
    ("response_body", "Nullable(String)", "ZSTD(1)"),
)


# The sums ``request_hour`` keeps per group, each an exact integer (what each is the sum of:
# ``_hourly.SUMMED``).
HOURLY_SUMS = (
    "requests",
    "cost",
    "latency_sum",
    "latency_count",
    "ttft_sum",
    "ttft_count",
    "ttft_positive_sum",
    "ttft_positive_count",
    "prompt_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "prompt_cache_read_tokens",
    "prompt_cache_write_tokens",
    "threats",
    "cache_enabled",
)
# The sums ``user_hour`` keeps per (hour, user): what the users overview and the user metrics
# page read besides the distinct users themselves.
USER_HOUR_SUMS = ("requests", "cost", "prompt_tokens", "completion_tokens")
# The sums ``property_hour`` keeps per (property key, hour, value): what property top values
# and over time read, and the dashboard's totals and series filtered by one property (the
# errors apart: there is no status to count them by).
PROPERTY_HOUR_SUMS = (*HOURLY_SUMS, "errors")


@dataclass(frozen=True, slots=True)
class LogTable:
    """One table: columns, the engine and its argument, keys, retention.

    The argument is, for a ReplacingMergeTree, the version column FINAL keeps the newest of;
    for a SummingMergeTree, the columns it sums.
    """

    name: str
    columns: tuple[tuple[str, str, str | None], ...]
    version: str
    order_by: tuple[str, ...]
    shard_by: tuple[str, ...]
    partition_by: str | None = None
    ttl_column: str | None = None  # retention counts from this column's time
    indexes: tuple[tuple[str, str], ...] = ()  # (column, skip index type)
    # Drop whole parts once all their rows expired (the log: a month at a time), or rows.
    ttl_drops_parts: bool = True
    engine: str = "ReplacingMergeTree"


_ORG = ("organization_id", "LowCardinality(String)", None)
_HOUR = ("hour", "DateTime('UTC')", None)
# The session summary's times and totals, and its version (``session_summary``,
# ``session_property``).
_SESSION_TOTALS = (
    ("created_at", "DateTime64(6, 'UTC')", None),
    ("latest_request_created_at", "DateTime64(6, 'UTC')", None),
    *((name, "Int64", None) for name in ("total_cost", "total_requests", "prompt_tokens")),
    *((name, "Int64", None) for name in ("completion_tokens", "total_tokens")),
    *((name, "Int64", None) for name in ("latency_sum", "latency_count")),
    ("version", "DateTime64(6, 'UTC')", None),
    ("is_deleted", "UInt8", None),
)


def _rollup(
    name: str, group: tuple[tuple[str, str, str | None], ...], sums: tuple[str, ...]
) -> LogTable:
    """A per-hour rollup: a SummingMergeTree of the signed deltas of ``sums`` per ``group``.

    The group is the sort key (FINAL sums each group's deltas and drops a group that nets to
    zero); months are partitions, and retention counts from the hour.
    """
    return LogTable(
        name,
        (*group, *((column, "Int64", None) for column in sums)),
        version=f"({', '.join(sums)})",
        engine="SummingMergeTree",
        order_by=tuple(column for column, _, _ in group),
        shard_by=("organization_id", "hour"),
        partition_by="toYYYYMM(hour)",
        ttl_column="hour",
    )


TABLES: tuple[LogTable, ...] = (
    LogTable(
        "request_response",
        LOG_COLUMNS,
        version="updated_at",
        # Every query names one organization and most a time range: both lead the key, so a
        # dashboard reads only its org's granules of its window. The request id ends the key,
        # making (org, created_at, id) the row's identity for ReplacingMergeTree.
        order_by=("organization_id", "request_created_at", "request_id"),
        shard_by=("organization_id", "request_id"),
        partition_by="toYYYYMM(request_created_at)",
        ttl_column="request_created_at",
        # Lookups by id, session or user cannot use the key (time comes first): a bloom filter
        # per granule lets them skip almost every granule. At 1M rows, a request by id read
        # FINAL took 1,495 ms without it and 59 ms with it (README).
        indexes=(
            ("request_id", "bloom_filter(0.001)"),
            ("session_id", "bloom_filter(0.001)"),
            ("user_id", "bloom_filter(0.001)"),
        ),
    ),
    LogTable(
        "feedback",
        (
            ("organization_id", "LowCardinality(String)", None),
            ("request_id", "String", None),
            ("id", "Int64", None),
            ("rating", "Bool", None),
            ("created_at", "DateTime64(6, 'UTC')", None),
        ),
        version="created_at",
        order_by=("organization_id", "request_id"),
        shard_by=("organization_id", "request_id"),
        ttl_column="created_at",
    ),
    LogTable(
        "session_tag",
        (
            ("organization_id", "LowCardinality(String)", None),
            ("session_id", "String", None),
            ("tag", "String", None),
            ("created_at", "DateTime64(6, 'UTC')", None),
        ),
        version="created_at",
        order_by=("organization_id", "session_id"),
        shard_by=("organization_id", "session_id"),
    ),
    LogTable(
        "score_value",
        (
            ("organization_id", "LowCardinality(String)", None),
            ("request_id", "String", None),
            ("score_key", "LowCardinality(String)", None),
            ("value", "Float64", None),
            ("created_at", "DateTime64(6, 'UTC')", None),
        ),
        version="created_at",
        order_by=("organization_id", "score_key", "request_id"),
        shard_by=("organization_id", "request_id"),
        ttl_column="created_at",
    ),
    # Per-session totals, as the SQL store keeps them (see store/README.md), recomputed from
    # the log by every write that touches a session: a replay recomputes the same totals, so
    # the newest version is always right. A session that lost its rows (an edit moved them)
    # is a tombstone (is_deleted), which FINAL leaves out.
    LogTable(
        "session_summary",
        (_ORG, ("session_id", "String", None), ("session_name", "String", None), *_SESSION_TOTALS),
        version="version, is_deleted",
        order_by=("organization_id", "session_id", "session_name"),
        shard_by=("organization_id", "session_id"),
        ttl_column="latest_request_created_at",
        ttl_drops_parts=False,
    ),
    # The same totals per property value (README: "Reads at 10M, round 5"): the session page
    # filtered by one property reads a key's rows. Key, then session: the writer finds a
    # batch's sessions by (key, session); the page reads one key's range.
    LogTable(
        "session_property",
        (
            _ORG,
            ("key", "LowCardinality(String)", None),
            ("session_id", "String", None),
            ("session_name", "String", None),
            ("value", "String", None),
            *_SESSION_TOTALS,
        ),
        version="version, is_deleted",
        order_by=("organization_id", "key", "session_id", "session_name", "value"),
        shard_by=("organization_id", "session_id"),
        ttl_column="latest_request_created_at",
        ttl_drops_parts=False,
    ),
    # One row per (request, property key): what property queries read instead of every log
    # row's Map (a Map lookup reads all keys and values of every row: 1.4-1.8 s CPU at 10M
    # rows, against a key's own rows here). Written by the writer with its log rows, and by
    # property edits, with the log row's version; a key a replayed row no longer has gets a
    # tombstone (is_deleted), which FINAL leaves out. ``cost`` is the one measure property
    # queries sum (README: "Properties out of the scan").
    LogTable(
        "request_property",
        (
            ("organization_id", "LowCardinality(String)", None),
            ("key", "LowCardinality(String)", None),
            ("request_created_at", "DateTime64(6, 'UTC')", "Delta, ZSTD(1)"),
            ("request_id", "String", None),
            # LowCardinality: property queries group and search by value, and a key's values
            # repeat (environments, features, tiers). At 10M rows grouping a key's values took
            # 300 ms CPU as String, 150 ms as LowCardinality; a key of unique values (ids)
            # makes ClickHouse fall back to plain strings per part, at no loss (README).
            ("value", "LowCardinality(String)", None),
            ("cost", "Nullable(Int64)", None),
            ("updated_at", "DateTime64(6, 'UTC')", None),
            ("is_deleted", "UInt8", None),
        ),
        version="updated_at, is_deleted",
        order_by=("organization_id", "key", "request_created_at", "request_id"),
        # As the log: a request's property versions meet its log row's shard.
        shard_by=("organization_id", "request_id"),
        partition_by="toYYYYMM(request_created_at)",
        ttl_column="request_created_at",
    ),
    # The log's sums per hour and (model, provider, status), for the dashboard's totals,
    # series and breakdowns without a filter: a scan of 10M rows (250-1,100 ms CPU) becomes
    # one of the rollup's rows (README: "A per-hour rollup"). The writer adds signed deltas
    # (new rows, minus the stored versions of rows written again: ``_hourly``), so a replay
    # adds nothing and recomputes nothing; FINAL sums each group's deltas and leaves out a
    # group that nets to zero. The users are apart (``user_hour``): with them in the group it
    # held a row per active (hour, user, model, status), 1,056,317 for the 10M log, against
    # 5,760 without (README: "The rollup split").
    _rollup(
        "request_hour",
        (
            _ORG,
            _HOUR,
            ("model", "LowCardinality(String)", None),
            ("provider", "LowCardinality(String)", None),
            ("status", "Int32", None),
        ),
        HOURLY_SUMS,
    ),
    # The log's sums per hour and user (rows with a user only), kept as ``request_hour`` is:
    # the distinct users of totals and series, the users overview and the user metrics page.
    _rollup("user_hour", (_ORG, _HOUR, ("user_id", "String", None)), USER_HOUR_SUMS),
    # The log's sums per property key, hour and value, kept as ``request_hour`` is (deltas
    # from the writer, and from property edits): property top values and over time read a
    # key's few rows per hour instead of its every request in ``request_property``, and so
    # do the dashboard's totals and series filtered by one property, instead of every log
    # row's Map (README: "Rollups by property").
    _rollup(
        "property_hour",
        (
            _ORG,
            ("key", "LowCardinality(String)", None),
            _HOUR,
            ("value", "String", None),
        ),
        PROPERTY_HOUR_SUMS,
    ),
    # Requests per property key, value, hour and user (rows with a user): the distinct users
    # of totals and series filtered by one property.
    _rollup(
        "property_user_hour",
        (
            _ORG,
            ("key", "LowCardinality(String)", None),
            ("value", "String", None),
            _HOUR,
            ("user_id", "String", None),
        ),
        ("requests",),
    ),
    # How many requests took each latency (whole milliseconds), per hour: a histogram, kept
    # as ``request_hour`` is, from which latency quantiles are exact nearest ranks without
    # reading every request (README: "A per-hour latency histogram").
    _rollup("latency_hour", (_ORG, _HOUR, ("latency", "Int64", None)), ("requests",)),
    # Keys hidden from the property lists; restoring one writes a tombstone (is_deleted).
    LogTable(
        "hidden_property_key",
        (
            ("organization_id", "LowCardinality(String)", None),
            ("key", "String", None),
            ("created_at", "DateTime64(6, 'UTC')", None),
            ("is_deleted", "UInt8", None),
        ),
        version="created_at, is_deleted",
        order_by=("organization_id", "key"),
        shard_by=("organization_id", "key"),
    ),
    # The property keys an organization has logged, kept by PROPERTY_KEYS_VIEW from every
    # insert into the log. A set is what a replay cannot spoil (a key seen twice is one key),
    # which is why this one aggregate is a view while sums are computed at query time.
    LogTable(
        "property_key",
        (
            ("organization_id", "LowCardinality(String)", None),
            ("key", "String", None),
            ("last_seen", "DateTime64(6, 'UTC')", None),
        ),
        version="last_seen",
        order_by=("organization_id", "key"),
        shard_by=("organization_id", "key"),
        ttl_column="last_seen",
        ttl_drops_parts=False,
    ),
)
