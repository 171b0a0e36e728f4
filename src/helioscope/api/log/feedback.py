"""Helicone's gateway feedback: ``POST /v1/feedback``, also under each provider prefix.

A client rates a call by its ``Helicone-Id`` (a header, or a field of the body).
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Request

from helioscope.api.deps import ApiKeyDep, StoreDep, WriterDep
from helioscope.api.envelope import ERROR_RESPONSES, JsonResponse
from helioscope.errors import BadRequest, NotFound
from helioscope.store.log import requests

writes = APIRouter(tags=["Trace"], responses=ERROR_RESPONSES)


def _feedback_route(path: str) -> None:
    async def feedback(
        request: Request,
        key: ApiKeyDep,
        store: StoreDep,
        writer: WriterDep,
        helicone_id: Annotated[str | None, Header(alias="helicone-id")] = None,
    ) -> JsonResponse:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"body: malformed JSON ({exc})") from exc
        if not isinstance(body, dict) or not isinstance(body.get("rating"), bool):
            raise BadRequest("rating: expected true or false")
        request_id = helicone_id or body.get("helicone-id") or body.get("heliconeId")
        if not isinstance(request_id, str) or not request_id:
            raise BadRequest("helicone-id: send the request's Helicone-Id as a header or field")
        log = store.log.org(key.organization_id)
        try:
            await log.write(requests.set_feedback, request_id, body["rating"])
        except NotFound:
            await writer.flush_within(2.0)  # the call may be logged but not yet written
            await log.write(requests.set_feedback, request_id, body["rating"])
        return JsonResponse({"data": None, "error": None})

    feedback.__doc__ = "Rate a logged request by its Helicone-Id (Helicone's gateway feedback)."
    writes.add_api_route(path, feedback, methods=["POST"], name=f"feedback_{path.strip('/')}")


for _path in (
    "/v1/feedback",
    "/oai/v1/feedback",
    "/openai/v1/feedback",
    "/anthropic/v1/feedback",
    "/gateway/v1/feedback",
):
    _feedback_route(_path)
