"""``/v1/helioscope/sessions``: the session list sorted by any total, and one session's trace.

Totals come from the per-session summary, so sorting by cost or size is as cheap as sorting by
time; each page adds its sessions' error counts and users.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, Field, model_validator

from helioscope.api._fields import Offset
from helioscope.api._helioscope_shape import (
    SessionPageResult,
    SessionTrace,
    to_helioscope_request,
    to_session_row,
)
from helioscope.api._session_shape import SessionMetricsWithAverages, SessionNameQueryParams
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.api.session import session_metrics
from helioscope.errors import NotFound
from helioscope.store import SessionPage
from helioscope.store.log import session_list, sessions

reads = APIRouter(
    prefix="/v1/helioscope/sessions", tags=["Helioscope UI"], responses=ERROR_RESPONSES
)

Direction = Literal["asc", "desc"]
SortKey = Literal[
    "created_at",
    "latest_request_created_at",
    "session_name",
    "session_id",
    "total_cost",
    "total_requests",
    "total_tokens",
    "avg_latency",
]


def _newest_first() -> dict[SortKey, Direction]:
    return {"created_at": "desc"}


class SessionPageQuery(BaseModel):
    """Body of ``POST /v1/helioscope/sessions/query``.

    A session is listed when it overlaps ``[start, end]``; its totals are the whole session's.
    """

    search: Annotated[str, Field(max_length=400)] = ""
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    sort: dict[SortKey, Direction] = Field(default_factory=_newest_first, max_length=3)
    offset: Offset = 0
    limit: int = Field(50, ge=1, le=500)

    @model_validator(mode="after")
    def _ordered(self) -> SessionPageQuery:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError("start is after end")
        return self


@reads.post("/query", response_model=Result[SessionPageResult])
async def query_sessions(body: SessionPageQuery, key: ApiKeyDep, store: StoreDep) -> Result[Any]:
    """A page of sessions with totals, error counts and users, and how many match."""
    page = SessionPage(
        search=body.search,
        start=body.start,
        end=body.end,
        sort={str(k): str(v) for k, v in body.sort.items()},
        offset=body.offset,
        limit=body.limit,
    )
    found = await store.log.org(key.organization_id).read(session_list.session_page, page)
    sessions = [to_session_row(r) for r in found["sessions"]]
    return Result(data=SessionPageResult(sessions=sessions, total=found["total"]))


class SessionMetricsQuery(SessionNameQueryParams):
    """Body of ``POST /v1/helioscope/sessions/metrics``: Helicone's, and the list's search.

    ``search`` matches a session's name or id, as ``/v1/helioscope/sessions/query`` does, so
    the histograms above the list describe the sessions listed (``nameContains`` alone left
    them empty while the list showed the session searched for by id).
    """

    search: Annotated[str, Field(max_length=400)] = ""


@reads.post("/metrics", response_model=Result[SessionMetricsWithAverages])
async def get_session_metrics(
    params: SessionMetricsQuery, key: ApiKeyDep, store: StoreDep
) -> Result[SessionMetricsWithAverages]:
    """Helicone's session histograms (``/v1/session/metrics/query``) and their averages."""
    return Result(
        data=await session_metrics(params, key.organization_id, store, search=params.search)
    )


@reads.get("/{sessionId}", response_model=Result[SessionTrace])
async def get_session(sessionId: str, key: ApiKeyDep, store: StoreDep) -> Result[Any]:
    """A session's requests in time order (the UI lays out the tree from their paths)."""
    rows = await store.log.org(key.organization_id).read(sessions.session_timeline, sessionId)
    if not rows:
        raise NotFound(f"session {sessionId} not found")
    names = sorted({r["session_name"] for r in rows if r["session_name"]})
    return Result(
        data=SessionTrace(
            session_id=sessionId,
            session_names=names,
            requests=[to_helioscope_request(r) for r in rows],
            truncated=len(rows) >= sessions.TIMELINE_MAX,
        )
    )
