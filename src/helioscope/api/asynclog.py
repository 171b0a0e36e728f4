"""Logging without the proxy: Helicone's async log endpoints, OpenTelemetry traces, feedback.

Every route feeds the same log writer as the gateway. Bodies are read raw, so that a body over
the limit is refused before it is parsed and malformed JSON is a 400 that says so.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Request, Response
from starlette.responses import PlainTextResponse

from helioscope._asgi import read_body as read_asgi_body
from helioscope.api._fastlog import WORKER_LOG_ROUTES, ingest_async_log
from helioscope.api.deps import LogKeyDep, StoreDep, WriterDep
from helioscope.api.envelope import ERROR_RESPONSES, JsonResponse
from helioscope.errors import BadRequest, NotFound, PayloadTooLarge
from helioscope.ingest import LogWriter
from helioscope.ingest.asynclog import AsyncLogInvalid
from helioscope.ingest.otel import decode_protobuf, trace_rows
from helioscope.providers import ProviderFormat
from helioscope.store import ApiKey
from helioscope.store.log import requests

router = APIRouter(tags=["Trace"], responses=ERROR_RESPONSES)

PROTOBUF = "application/x-protobuf"


async def read_body(request: Request) -> bytes:
    """The raw body, refused past the configured limit (Helicone: 10 MB)."""
    limit: int = request.app.state.services.settings.max_request_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:  # refuse before reading a byte
        raise PayloadTooLarge(f"body is larger than the limit of {limit} bytes")
    return await read_asgi_body(request.receive, limit)


async def read_json(request: Request) -> Any:
    """The body parsed as JSON, or a 400 naming the problem."""
    body = await read_body(request)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body: malformed JSON ({exc})") from exc


async def _log(
    request: Request, key: ApiKey, writer: LogWriter, provider: ProviderFormat | None, timing: bool
) -> str:
    headers = [(k, v) for k, v in request.headers.items() if k.lower().startswith("helicone-")]
    return await ingest_async_log(await read_body(request), headers, key, writer, provider, timing)


def _worker_route(path: str, provider: ProviderFormat) -> None:
    async def log(request: Request, key: LogKeyDep, writer: WriterDep) -> PlainTextResponse:
        request_id = await _log(request, key, writer, provider, timing=True)
        return PlainTextResponse("ok", headers={"helicone-id": request_id})

    log.__doc__ = f"Log a {provider.name} call made without the proxy (Helicone's async log)."
    router.add_api_route(path, log, methods=["POST"], name=f"log_{path.strip('/')}")


# At run time HelioscopeApp serves these paths with api._fastlog (same steps, raw ASGI);
# these routes document them and serve any app built without that dispatch.
for _path, _provider in WORKER_LOG_ROUTES.items():
    _worker_route(_path, _provider)


@router.post("/v1/trace/custom/log", status_code=204)
@router.post("/v1/trace/custom/v1/log", status_code=204)
async def log_custom_trace(request: Request, key: LogKeyDep, writer: WriterDep) -> Response:
    """Log a call; ``timing`` may be left out (then the call is logged as of now)."""
    request_id = await _log(request, key, writer, None, timing=False)
    return Response(status_code=204, headers={"helicone-id": request_id})


@router.post("/v1/trace/custom/log/typed")
async def log_custom_trace_typed(request: Request, key: LogKeyDep, writer: WriterDep) -> Response:
    """Validate, then log; problems come back as ``{isValid, errors: [{field, message}]}``."""
    try:
        request_id = await _log(request, key, writer, None, timing=False)
    except AsyncLogInvalid as invalid:
        return JsonResponse({"isValid": False, "errors": invalid.errors}, status_code=400)
    except BadRequest as bad:
        return JsonResponse(
            {"isValid": False, "errors": [{"field": "body", "message": bad.message}]},
            status_code=400,
        )
    return JsonResponse({"isValid": True, "errors": []}, headers={"helicone-id": request_id})


async def _traces(request: Request, key: ApiKey, writer: LogWriter) -> int:
    body = await read_body(request)
    if request.headers.get("content-type", "").split(";")[0].strip() == PROTOBUF:
        payload = decode_protobuf(body)
    else:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"body: malformed JSON ({exc})") from exc
    rows = trace_rows(payload, key.organization_id, key.id)
    for row in rows:
        await writer.put(row)
    return len(rows)


@router.post("/v1/trace/log", status_code=204)
@router.post("/v1/trace/log-python", status_code=204)
async def log_trace(request: Request, key: LogKeyDep, writer: WriterDep) -> Response:
    """OpenTelemetry spans: OTLP/JSON, or protobuf (``Content-Type: application/x-protobuf``)."""
    await _traces(request, key, writer)
    return Response(status_code=204)


@router.post("/v1/traces", tags=["OpenTelemetry"])
async def otlp_traces(request: Request, key: LogKeyDep, writer: WriterDep) -> Response:
    """The standard OTLP/HTTP trace endpoint: point any OTLP exporter here."""
    await _traces(request, key, writer)
    if request.headers.get("content-type", "").startswith(PROTOBUF):
        return Response(b"", media_type=PROTOBUF)  # an empty ExportTraceServiceResponse
    return JsonResponse({})


def _feedback_route(path: str) -> None:
    async def feedback(
        request: Request,
        key: LogKeyDep,
        store: StoreDep,
        writer: WriterDep,
        helicone_id: Annotated[str | None, Header(alias="helicone-id")] = None,
    ) -> JsonResponse:
        body = await read_json(request)
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
    router.add_api_route(path, feedback, methods=["POST"], name=f"feedback_{path.strip('/')}")


for _path in (
    "/v1/feedback",
    "/oai/v1/feedback",
    "/openai/v1/feedback",
    "/anthropic/v1/feedback",
    "/gateway/v1/feedback",
):
    _feedback_route(_path)
