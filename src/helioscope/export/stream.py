"""The filtered log as a stream of encoded chunks, read from the store a keyset page at a time.

Memory stays flat whatever the log's size: one page of rows is held at a time (Parquet holds
one row group). ``helioscope export`` writes the chunks to a file; the UI's export can send
them as a streamed response:

    encoder = open_encoder("csv")
    chunks = export_chunks(store, org_id, ExportQuery(filter=tree), encoder)
    StreamingResponse((chunk.data async for chunk in chunks), media_type="text/csv")
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from helioscope.export.formats import Encoder
from helioscope.export.records import iso, to_record
from helioscope.store import LogCursor, LogPageQuery, Store
from helioscope.store.log import pages, requests

PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class ExportQuery:
    """What to export.

    A Helicone filter tree, a time window (``since`` inclusive, ``until`` exclusive) and
    whether bodies go with the rows.
    """

    filter: Any = "all"
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    include_bodies: bool = True

    def tree(self) -> Any:
        """The filter tree with the time window ANDed in, as Helicone's filter language."""
        node = self.filter
        for operator, bound in (("gte", self.since), ("lt", self.until)):
            if bound is not None:
                leaf = {"request_response_rmt": {"request_created_at": {operator: iso(bound)}}}
                node = leaf if node == "all" else {"left": node, "operator": "and", "right": leaf}
        return node


@dataclass(frozen=True, slots=True)
class ExportChunk:
    """Bytes of the export, and how many records they finish."""

    data: bytes
    records: int


async def count(store: Store, org_id: str, query: ExportQuery) -> int:
    """How many records the export holds (also checks the filter before anything is written)."""
    return await store.log.org(org_id).read(requests.count_requests, query.tree())


async def record_pages(
    store: Store, org_id: str, query: ExportQuery, page_size: int = PAGE_SIZE
) -> AsyncIterator[list[dict[str, Any]]]:
    """Pages of export records, oldest first."""
    tree, log = query.tree(), store.log.org(org_id)
    after: LogCursor | None = None
    while True:
        rows = await log.read(
            pages.log_page,
            LogPageQuery(
                filter=tree, after=after, limit=page_size, include_bodies=query.include_bodies
            ),
        )
        if rows:
            yield [to_record(row) for row in rows]
        if len(rows) < page_size:
            return
        after = pages.cursor_after(rows)


async def export_chunks(
    store: Store, org_id: str, query: ExportQuery, encoder: Encoder, page_size: int = PAGE_SIZE
) -> AsyncIterator[ExportChunk]:
    """The export's bytes: the encoder's start, each page, its end."""
    pages = record_pages(store, org_id, query, page_size)
    # The first page is read before any byte is produced, so that a bad filter fails cleanly.
    first = await anext(pages, None)
    yield ExportChunk(encoder.start(), 0)
    if first is not None:
        yield ExportChunk(encoder.page(first), len(first))
        async for page in pages:
            yield ExportChunk(encoder.page(page), len(page))
    yield ExportChunk(encoder.end(), 0)
