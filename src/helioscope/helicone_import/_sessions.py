"""Session tags.

A session's requests, names and paths are properties of its requests, and its feedback is its
first request's: those arrive with the requests.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from helioscope.helicone_import._context import Context
from helioscope.store.log import sessions

PAGE_SIZE = 500
_FAR_FUTURE = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


def _ms(value: dt.datetime) -> int:
    return int(value.timestamp() * 1000)


async def _sessions(ctx: Context) -> list[str]:
    since = ctx.since or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    until = ctx.until or _FAR_FUTURE
    ids: list[str] = []
    while True:
        page = await ctx.client.post(
            "/v1/session/query",
            {
                "search": "",
                "timeFilter": {"startTimeUnixMs": _ms(since), "endTimeUnixMs": _ms(until)},
                "timezoneDifference": 0,
                "filter": "all",
                "offset": len(ids),
                "limit": PAGE_SIZE,
            },
        )
        ids += [
            str(s["session_id"]) for s in page or [] if isinstance(s, dict) and s.get("session_id")
        ]
        if not isinstance(page, list) or len(page) < PAGE_SIZE:
            return ids


async def _tag(ctx: Context, session_id: str) -> None:
    tag: Any = await ctx.client.get(f"/v1/session/{quote(session_id, safe='')}/tag")
    if isinstance(tag, str) and tag:
        await ctx.store.log.org(ctx.org_id).write(sessions.set_session_tag, session_id, tag)
        ctx.tally.session_tags += 1
    ctx.progress.advance(1)


async def import_session_tags(ctx: Context) -> None:
    """The tag of every session of the window."""
    session_ids = await _sessions(ctx)
    ctx.progress.phase("session tags", len(session_ids))
    await ctx.each(session_ids, lambda session_id: _tag(ctx, session_id))
