"""Exports of the request log: one record shape, three formats, streamed in keyset pages.

- ``records``: a stored row as a flat record (``COLUMNS``, ``to_record``);
- ``formats``: encoders for JSONL, CSV (formula cells neutralised) and Parquet (optional);
- ``stream``: the filtered log as encoded chunks (``ExportQuery``, ``export_chunks``).

``helioscope export`` uses it, and so can the UI's export: both produce the same bytes.
"""

from helioscope.export.formats import (
    FORMATS,
    Encoder,
    ExportFormat,
    FormatUnavailable,
    neutralise,
    open_encoder,
)
from helioscope.export.records import COLUMN_NAMES, COLUMNS, to_record
from helioscope.export.stream import ExportChunk, ExportQuery, count, export_chunks, record_pages

__all__ = [
    "COLUMNS",
    "COLUMN_NAMES",
    "FORMATS",
    "Encoder",
    "ExportChunk",
    "ExportFormat",
    "ExportQuery",
    "FormatUnavailable",
    "count",
    "export_chunks",
    "neutralise",
    "open_encoder",
    "record_pages",
    "to_record",
]
