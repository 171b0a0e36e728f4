"""Requests, with their bodies, feedback and scores.

Paged from ``/v1/request/query`` oldest first, bodies from their signed URLs, stored through the
log writer's own write path (``store.log.write_batch``), then feedback and scores.

Paging follows a time cursor rather than a growing offset: each page asks for rows created at or
after the newest one imported, skipping those already seen at exactly that time. Rows the
source logs meanwhile cannot shift a page, and the cursor is what the checkpoint keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helioscope.helicone_import._checkpoint import RequestCursor
from helioscope.helicone_import._client import SourceError
from helioscope.helicone_import._context import Context, both, created
from helioscope.helicone_import._rows import log_row, scores_of
from helioscope.store.log import requests

PAGE_SIZE = 200


async def _bodies(ctx: Context, item: dict[str, Any]) -> tuple[Any, Any]:
    url = item.get("signed_body_url")
    if not url:  # a server that returns bodies inline (Helioscope does)
        return item.get("request_body"), item.get("response_body")
    try:
        document = await ctx.client.document(str(url))
    except SourceError as exc:  # expired or unreadable: keep what the row has
        ctx.tally.skipped.append(f"bodies of request {item.get('request_id')}: {exc}")
        return item.get("request_body"), item.get("response_body")
    ctx.tally.bodies_from_urls += 1
    if not isinstance(document, dict):
        return document, None
    return document.get("request"), document.get("response")


async def store_items(ctx: Context, items: list[dict[str, Any]]) -> None:
    """Store source requests (``HeliconeRequest`` dicts) with their bodies, feedback, scores."""
    items = [i for i in items if isinstance(i, dict) and i.get("request_id")]
    bodies = await ctx.each(items, lambda item: _bodies(ctx, item))
    rows = [log_row(ctx.org_id, item, *pair) for item, pair in zip(items, bodies, strict=True)]
    await ctx.store.log.write_batch(rows)
    log = ctx.store.log.org(ctx.org_id)
    for item in items:
        request_id = str(item["request_id"])
        rating = item.get("feedback_rating")
        if isinstance(rating, bool):
            await log.write(requests.set_feedback, request_id, rating)
            ctx.tally.feedback += 1
        scores = scores_of(item)
        if scores:  # the row holds them already; this also indexes them for the evals routes
            await log.write(requests.add_scores, request_id, scores)
            ctx.tally.scored += 1
    ctx.tally.requests += len(rows)


async def count(ctx: Context) -> int | None:
    """How many requests the window holds at the source (None if it cannot say)."""
    try:
        total = await ctx.client.post("/v1/request/count/query", {"filter": ctx.window()})
    except SourceError:
        return None
    return int(total) if isinstance(total, (int, float)) else None


def _advance(cursor: RequestCursor, page: list[dict[str, Any]]) -> None:
    newest = str(page[-1].get("request_created_at"))
    at_newest = [str(i["request_id"]) for i in page if i.get("request_created_at") == newest]
    cursor.seen = (cursor.seen if newest == cursor.created_at else []) + at_newest
    cursor.created_at = newest


FULL_SHAPE = "/v1/helioscope/requests/query"


async def _page(ctx: Context, body: dict[str, Any]) -> Any:
    """One page of requests: Helioscope's full shape when the source is a Helioscope.

    Helicone's ``HeliconeRequest`` has no stream flag, cost, prompt version, cache or error
    fields; a Helioscope source answers them on its own route beside Helicone's, so moving
    between two Helioscopes loses nothing. Helicone itself refuses that route: one try, then
    ``/v1/request/query`` for the rest of the import.
    """
    if ctx.full_shape is not False:
        try:
            found = await ctx.client.post(FULL_SHAPE, body)
        except SourceError:
            if ctx.full_shape:
                raise
            ctx.full_shape = False
        else:
            ctx.full_shape = True
            return found.get("requests") if isinstance(found, dict) else None
    return await ctx.client.post("/v1/request/query", body)


async def import_requests(
    ctx: Context, cursor: RequestCursor, save: Callable[[], None], page_size: int = PAGE_SIZE
) -> None:
    """Every request of the window after ``cursor``; ``save`` runs after each stored page."""
    ctx.progress.phase("requests", await count(ctx))
    ctx.progress.advance(cursor.imported)
    while True:
        tree = ctx.window()
        if cursor.created_at is not None:
            tree = both(tree, created("gte", cursor.created_at))
        page = await _page(
            ctx,
            {
                "filter": tree,
                "offset": len(cursor.seen),
                "limit": page_size,
                "sort": {"created_at": "asc"},
            },
        )
        if not isinstance(page, list) or not page:
            return
        seen = set(cursor.seen)
        fresh = [i for i in page if isinstance(i, dict) and str(i.get("request_id")) not in seen]
        await store_items(ctx, fresh)
        _advance(cursor, page)
        cursor.imported += len(fresh)
        save()
        ctx.progress.advance(len(fresh))
        if len(page) < page_size:
            return
