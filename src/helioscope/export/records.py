"""One logged request as one flat export record: the columns every export format shares.

A record keeps Python types (``datetime``, ``dict``, numbers); each format turns them into its
own cells (``formats.py``). The columns are fixed, so that a CSV header and a Parquet schema
can be written before the first row, whatever properties the rows carry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Any

import orjson


class Kind(Enum):
    """What a column holds, which decides its cell in each format."""

    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    TIME = "time"  # an aware UTC datetime
    JSON = "json"  # a dict: an object in JSONL, JSON text in CSV and Parquet
    BODY = "body"  # a request or response body as logged (text, usually JSON)


@dataclass(frozen=True, slots=True)
class Column:
    """An export column: its name in every format, and the stored field it comes from."""

    name: str
    kind: Kind
    field: str


def _columns(kind: Kind, *names: str) -> list[Column]:
    return [Column(name, kind, name) for name in names]


COLUMNS: tuple[Column, ...] = (
    Column("request_id", Kind.TEXT, "request_id"),
    Column("created_at", Kind.TIME, "request_created_at"),
    Column("response_created_at", Kind.TIME, "response_created_at"),
    *_columns(Kind.INT, "status"),
    *_columns(Kind.TEXT, "provider", "model", "request_model", "response_model"),
    *_columns(Kind.TEXT, "model_override", "user_id", "path", "target_url"),
    Column("latency_ms", Kind.INT, "latency"),
    Column("time_to_first_token_ms", Kind.INT, "time_to_first_token"),
    *_columns(Kind.INT, "prompt_tokens", "completion_tokens", "total_tokens"),
    *_columns(Kind.INT, "prompt_cache_read_tokens", "prompt_cache_write_tokens"),
    *_columns(Kind.INT, "reasoning_tokens", "prompt_audio_tokens", "completion_audio_tokens"),
    Column("cost_usd", Kind.FLOAT, "cost"),
    *_columns(Kind.BOOL, "is_stream", "cache_enabled"),
    *_columns(Kind.TEXT, "cache_reference_id"),
    *_columns(Kind.BOOL, "threat"),
    *_columns(Kind.TEXT, "country_code", "session_id", "session_name", "session_path"),
    *_columns(Kind.TEXT, "prompt_id", "prompt_version"),
    *_columns(Kind.JSON, "properties", "scores", "prompt_inputs"),
    *_columns(Kind.BOOL, "feedback_rating"),
    *_columns(Kind.TEXT, "error"),
    *_columns(Kind.BODY, "request_body", "response_body"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.astimezone(dt.UTC)


def to_record(row: dict[str, Any]) -> dict[str, Any]:
    """A log row as the store returns it (``log.pages.log_page``) as an export record.

    Rows read without bodies export them as None.
    """
    record: dict[str, Any] = {}
    for column in COLUMNS:
        value = row.get(column.field)
        if column.kind is Kind.TIME:
            value = _utc(value)
        elif column.kind is Kind.JSON:
            value = dict(value) if value else ({} if column.field != "prompt_inputs" else None)
        record[column.name] = value  # cost comes out of the store in USD, as exports say it
    return record


def iso(value: dt.datetime) -> str:
    """``2026-11-25T06:33:23.123456Z``: UTC, to the microsecond the store keeps."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def body_value(text: str | None) -> Any:
    """A logged body as a value: parsed JSON, or the text itself when it is not JSON."""
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
