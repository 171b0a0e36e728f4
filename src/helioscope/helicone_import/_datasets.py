"""Datasets of logged requests.

Each row's request comes too (fetched by id when it lies outside the window), and the row's own
bodies when they were edited at the source.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from helioscope.helicone_import._client import SourceError
from helioscope.helicone_import._context import Context
from helioscope.helicone_import._requests import store_items
from helioscope.helicone_import._rows import body_text, parse_time
from helioscope.store import ImportedDataset, ImportedDatasetRow
from helioscope.store.experiments import dataset_imports
from helioscope.store.log import requests

PAGE_SIZE = 100


async def _rows(ctx: Context, dataset_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        page = await ctx.client.post(
            f"/v1/helicone-dataset/{dataset_id}/query", {"offset": len(rows), "limit": PAGE_SIZE}
        )
        rows += [r for r in page or [] if isinstance(r, dict) and r.get("origin_request_id")]
        if not isinstance(page, list) or len(page) < PAGE_SIZE:
            return rows


async def _fetch_missing(ctx: Context, request_ids: list[str]) -> None:
    """Import the rows' requests the local log lacks (made outside the import's window)."""
    present: set[str] = set()
    log = ctx.store.log.org(ctx.org_id)
    for start in range(0, len(request_ids), 500):
        present |= await log.read(requests.existing_ids, request_ids[start : start + 500])
    missing = [i for i in request_ids if i not in present]
    for start in range(0, len(missing), PAGE_SIZE):
        found = await ctx.client.post(
            "/v1/request/query-ids", {"requestIds": missing[start : start + PAGE_SIZE]}
        )
        await store_items(ctx, [i for i in found or [] if isinstance(i, dict)])


def _same(stored: str | None, imported: Any) -> bool:
    if stored is None or imported is None:
        return stored is None and imported is None
    try:
        parsed: Any = orjson.loads(stored)
    except orjson.JSONDecodeError:
        parsed = stored
    return bool(parsed == imported)


async def _row(ctx: Context, item: dict[str, Any]) -> ImportedDatasetRow:
    request_id = str(item["origin_request_id"])
    created = parse_time(item.get("created_at")) or dt.datetime.now(dt.UTC)
    plain = ImportedDatasetRow(str(item.get("id") or request_id), request_id, created)
    signed = item.get("signed_url")
    url = signed.get("data") if isinstance(signed, dict) else signed
    if not url:
        return plain
    try:
        document = await ctx.client.document(str(url))
    except SourceError:
        return plain
    if not isinstance(document, dict):
        return plain
    logged = await ctx.store.log.org(ctx.org_id).read(requests.get_request, request_id)
    request, response = document.get("request"), document.get("response")
    if logged is not None and _same(logged.get("request_body"), request):
        if _same(logged.get("response_body"), response):
            return plain  # the row's bodies are the request's own: nothing was edited
    return ImportedDatasetRow(
        plain.id, request_id, created, body_text(request), body_text(response)
    )


async def _import_dataset(ctx: Context, item: dict[str, Any]) -> None:
    dataset_id = str(item["id"])
    listed = await _rows(ctx, dataset_id)
    await _fetch_missing(ctx, [str(r["origin_request_id"]) for r in listed])
    rows = await ctx.each(listed, lambda r: _row(ctx, r))
    dataset = ImportedDataset(
        id=dataset_id,
        name=item.get("name"),
        dataset_type="helicone",
        meta=item.get("meta"),
        created_at=parse_time(item.get("created_at")) or dt.datetime.now(dt.UTC),
    )
    put = dataset_imports.put_dataset
    stored = await ctx.store.org(ctx.org_id).write(put, dataset, rows)
    if stored is None:
        ctx.tally.skipped.append(f"dataset {dataset_id}: its id belongs to another organization")
        return
    ctx.tally.datasets += 1
    ctx.tally.dataset_rows += stored
    if stored < len(rows):
        ctx.tally.skipped.append(
            f"dataset {dataset_id}: {len(rows) - stored} rows whose request the source no "
            "longer has"
        )


async def import_datasets(ctx: Context) -> None:
    """Every dataset of logged requests (experiment input datasets are not imported)."""
    listed = await ctx.client.post("/v1/helicone-dataset/query", {})
    datasets = [d for d in listed or [] if isinstance(d, dict) and d.get("id")]
    ctx.progress.phase("datasets", len(datasets))
    for item in datasets:
        if item.get("dataset_type", "helicone") != "helicone":
            ctx.tally.skipped.append(f"dataset {item['id']}: experiment datasets are not imported")
        else:
            await _import_dataset(ctx, item)
        ctx.progress.advance(1)
