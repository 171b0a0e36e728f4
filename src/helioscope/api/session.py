"""The ``Session`` tag: requests grouped by ``Helicone-Session-Id``."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter

from helioscope.api._request_shape import HeliconeRequest, to_helicone_request
from helioscope.api._session_shape import (
    SessionMetrics,
    SessionMetricsWithAverages,
    SessionNameQueryParams,
    SessionNameResult,
    SessionQueryParams,
    SessionResult,
    Tag,
    metrics,
    session_result,
    shifted,
)
from helioscope.api.deps import ApiKeyDep, BodyUrlDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.api.request import Rating
from helioscope.errors import NotFound
from helioscope.store import SessionQuery, Store
from helioscope.store.log import sessions

reads = APIRouter(prefix="/v1/session", tags=["Session"], responses=ERROR_RESPONSES)
writes = APIRouter(prefix="/v1/session", tags=["Session"], responses=ERROR_RESPONSES)


def _session_query(params: SessionQueryParams | SessionNameQueryParams) -> SessionQuery:
    start, end = params.timeFilter.bounds() if params.timeFilter else (None, None)
    if isinstance(params, SessionQueryParams):
        return SessionQuery(
            filter=params.filter,
            search=params.search,
            start=start,
            end=end,
            name_equals=params.nameEquals,
            limit=params.limit,
            offset=params.offset,
        )
    return SessionQuery(filter=params.filter, start=start, end=end)


@reads.post("/query", response_model=Result[list[SessionResult]])
async def get_sessions(
    params: SessionQueryParams, key: ApiKeyDep, store: StoreDep
) -> Result[list[SessionResult]]:
    """Sessions with their totals, newest first (50 by default)."""
    rows = await store.log.org(key.organization_id).read(
        sessions.query_sessions, _session_query(params)
    )
    return Result(data=[session_result(row, params.timezoneDifference) for row in rows])


@reads.post("/name/query", response_model=Result[list[SessionNameResult]])
async def get_names(
    params: SessionNameQueryParams, key: ApiKeyDep, store: StoreDep
) -> Result[list[SessionNameResult]]:
    """Session names, with how many sessions carry each and when they were used."""
    query = _session_query(params)
    rows = await store.log.org(key.organization_id).read(
        sessions.session_names, params.nameContains, params.filter, query.start, query.end
    )
    tz = params.timezoneDifference
    return Result(
        data=[
            SessionNameResult(
                name=row["name"],
                created_at=shifted(row["first_used"], tz),
                first_used=shifted(row["first_used"], tz),
                last_used=shifted(row["last_used"], tz),
                session_count=row["session_count"],
                total_cost=float(row["total_cost"] or 0),
            )
            for row in rows
        ]
    )


@reads.post("/metrics/query", response_model=Result[SessionMetrics])
async def get_metrics(
    params: SessionNameQueryParams, key: ApiKeyDep, store: StoreDep
) -> Result[SessionMetrics]:
    """Histograms of requests per session, duration and cost."""
    found = await session_metrics(params, key.organization_id, store)
    return Result(data=SessionMetrics(**found.model_dump(exclude={"average"})))


async def session_metrics(
    params: SessionNameQueryParams, organization_id: str, store: Store, search: str = ""
) -> SessionMetricsWithAverages:
    """The histograms and their averages (Helioscope's UI route answers both).

    ``search`` matches a session's name or id, as the session list's search does.
    """
    query = replace(_session_query(params), search=search)
    if params.nameContains:
        query = SessionQuery(
            filter={
                "left": params.filter,
                "operator": "and",
                "right": {
                    "sessions_request_response_rmt": {
                        "session_session_name": {"contains": params.nameContains}
                    }
                },
            },
            search=search,
            start=query.start,
            end=query.end,
        )
    rows = await store.log.org(organization_id).read(sessions.session_rows, query)
    return metrics(rows, params.pSize, params.useInterquartile)


@reads.get("/has-session", response_model=Result[bool])
async def has_session(key: ApiKeyDep, store: StoreDep) -> Result[bool]:
    """Whether the organization has logged any session."""
    return Result(data=await store.log.org(key.organization_id).read(sessions.has_session))


@writes.post("/{sessionId}/feedback", response_model=Result[None])
async def update_session_feedback(
    sessionId: str,
    body: Rating,
    key: ApiKeyDep,
    store: StoreDep,
) -> Result[None]:
    """Rate a session (stored on its earliest request, as Helicone does)."""
    await store.log.org(key.organization_id).write(
        sessions.set_session_feedback, sessionId, body.rating
    )
    return Result(data=None)


@reads.get("/{sessionId}/tag", response_model=Result[str | None])
async def get_session_tag(
    sessionId: str,
    key: ApiKeyDep,
    store: StoreDep,
) -> Result[str | None]:
    """The session's tag, or null."""
    return Result(
        data=await store.log.org(key.organization_id).read(sessions.get_session_tag, sessionId)
    )


@writes.post("/{sessionId}/tag", response_model=Result[None])
async def update_session_tag(
    sessionId: str,
    body: Tag,
    key: ApiKeyDep,
    store: StoreDep,
) -> Result[None]:
    """Tag a session."""
    await store.log.org(key.organization_id).write(sessions.set_session_tag, sessionId, body.tag)
    return Result(data=None)


@reads.get("/{sessionId}/trace", response_model=Result[list[HeliconeRequest]])
async def get_session_trace(
    sessionId: str,
    key: ApiKeyDep,
    store: StoreDep,
    body_url: BodyUrlDep,
) -> Result[list[HeliconeRequest]]:
    """Every request of the session, ordered by ``Helicone-Session-Path`` and time.

    This is the session's trace tree, flattened depth-first: Helioscope's addition, since
    Helicone's UI builds the same list with a request query on the session id.
    """
    rows = await store.log.org(key.organization_id).read(sessions.session_trace, sessionId)
    if not rows:
        raise NotFound(f"session {sessionId} not found")
    return Result(data=[to_helicone_request(row, body_url=body_url) for row in rows])
