"""The Parquet encoder (imported only when asked for: pyarrow is an optional extra)."""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from helioscope.export.records import COLUMNS, Kind

_TYPES = {
    Kind.TEXT: pa.string(),
    Kind.BODY: pa.string(),
    Kind.JSON: pa.string(),  # JSON text: a map's keys differ from row to row
    Kind.INT: pa.int64(),
    Kind.FLOAT: pa.float64(),
    Kind.BOOL: pa.bool_(),
    Kind.TIME: pa.timestamp("us", tz="UTC"),
}
SCHEMA = pa.schema([(c.name, _TYPES[c.kind]) for c in COLUMNS])
# Rows per row group: big enough for Parquet's compression and statistics to pay off, small
# enough that the records held back stay a few megabytes.
ROW_GROUP_ROWS = 5000


class _Drain:
    """A write-only file that hands over what was written since the last ``take``.

    pyarrow asks ``tell`` for the offsets it records in the footer, so it counts every byte
    ever written, not the bytes still held.
    """

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0
        self.closed = False

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        """Nothing is buffered below this object."""

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def _cell(kind: Kind, value: Any) -> Any:
    if kind is Kind.JSON and value is not None:
        return orjson.dumps(value).decode()
    return value


class ParquetEncoder:
    """Records in row groups of ``ROW_GROUP_ROWS``, with a typed schema (see ``records``)."""

    def __init__(self) -> None:
        self._sink = _Drain()
        self._writer = pq.ParquetWriter(self._sink, SCHEMA, compression="zstd")
        self._held: list[dict[str, Any]] = []

    def _flush(self) -> None:
        if not self._held:
            return
        columns = {c.name: [_cell(c.kind, r[c.name]) for r in self._held] for c in COLUMNS}
        self._writer.write_table(pa.Table.from_pydict(columns, schema=SCHEMA))
        self._held.clear()

    def start(self) -> bytes:
        """The file's magic number."""
        return self._sink.take()

    def page(self, records: list[dict[str, Any]]) -> bytes:
        """A row group's bytes once enough records have gathered."""
        self._held.extend(records)
        if len(self._held) >= ROW_GROUP_ROWS:
            self._flush()
        return self._sink.take()

    def end(self) -> bytes:
        """The last row group and the footer."""
        self._flush()
        self._writer.close()
        return self._sink.take()
