"""Export formats: records in, bytes out, a page at a time.

Every encoder answers bytes for its start, for each page of records and for its end, so the same
encoder feeds a file (``helioscope export``) or a streamed HTTP response (the UI's export)
without holding more than a page.

- JSONL: one JSON object per line; bodies as JSON when they are JSON, times in ISO 8601 UTC.
- CSV: a header, then one line per record. A text cell that a spreadsheet would run as a formula
  (it starts with ``= + - @``, a tab or a carriage return) gets a leading ``'`` (OWASP's advice
  against CSV injection).
- Parquet: through pyarrow, an optional extra (``pip install 'helioscope[parquet]'``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any, Literal, Protocol

import orjson

from helioscope.errors import BadRequest
from helioscope.export.records import COLUMN_NAMES, COLUMNS, Kind, body_value, iso

ExportFormat = Literal["jsonl", "csv", "parquet"]
FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv", "parquet")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BODIES = tuple(c.name for c in COLUMNS if c.kind is Kind.BODY)
_TIMES = tuple(c.name for c in COLUMNS if c.kind is Kind.TIME)


class FormatUnavailable(BadRequest):
    """The format needs a package that is not installed."""


class Encoder(Protocol):
    """Turns pages of records into the bytes of one export."""

    def start(self) -> bytes:
        """The bytes before the first record."""
        ...

    def page(self, records: list[dict[str, Any]]) -> bytes:
        """The bytes of a page of records (an encoder may hold some back until ``end``)."""
        ...

    def end(self) -> bytes:
        """The bytes after the last record."""
        ...


class JsonlEncoder:
    """One JSON object per line."""

    def start(self) -> bytes:
        """Nothing: JSONL has no header."""
        return b""

    def page(self, records: list[dict[str, Any]]) -> bytes:
        """Each record on its own line."""
        out = bytearray()
        for record in records:
            line = dict(record)
            for name in _BODIES:
                line[name] = body_value(line[name])
            for name in _TIMES:
                if line[name] is not None:
                    line[name] = iso(line[name])
            out += orjson.dumps(line)
            out += b"\n"
        return bytes(out)

    def end(self) -> bytes:
        """Nothing."""
        return b""


def neutralise(text: str) -> str:
    """A text cell that spreadsheets will not run as a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    return neutralise(str(value))


class CsvEncoder:
    """A header of the column names, then one line per record (RFC 4180 quoting)."""

    def _lines(self, rows: list[list[str]]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(rows)
        return buffer.getvalue().encode()

    def start(self) -> bytes:
        """The header line."""
        return self._lines([list(COLUMN_NAMES)])

    def page(self, records: list[dict[str, Any]]) -> bytes:
        """One line per record."""
        return self._lines([[_csv_cell(r[name]) for name in COLUMN_NAMES] for r in records])

    def end(self) -> bytes:
        """Nothing."""
        return b""


def open_encoder(fmt: str) -> Encoder:
    """The encoder of ``fmt`` (``jsonl``, ``csv`` or ``parquet``)."""
    if fmt == "jsonl":
        return JsonlEncoder()
    if fmt == "csv":
        return CsvEncoder()
    if fmt == "parquet":
        try:
            from helioscope.export._parquet import ParquetEncoder
        except ImportError as exc:
            raise FormatUnavailable(
                "Parquet export needs pyarrow, which is not installed: "
                "pip install 'helioscope[parquet]' (or choose --format jsonl or csv)"
            ) from exc
        return ParquetEncoder()
    raise BadRequest(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")
