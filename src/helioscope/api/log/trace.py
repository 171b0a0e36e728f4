"""Helicone's ``/v1/trace`` log routes and the standard OTLP/HTTP endpoint, ``/v1/traces``.

Every route feeds the same log writer as the gateway. Bodies are read raw (the route table has
already held them to the log routes' limit), so malformed JSON is a 400 that says so.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from helioscope.api.deps import ApiKeyDep, WriterDep
from helioscope.api.envelope import ERROR_RESPONSES, JsonResponse
from helioscope.api.log.worker import ingest_async_log
from helioscope.errors import BadRequest
from helioscope.ingest import LogWriter, collector_paused
from helioscope.ingest.asynclog import AsyncLogInvalid
from helioscope.ingest.otel import decode_json, decode_protobuf, trace_rows
from helioscope.store import ApiKey

logs = APIRouter(tags=["Trace"], responses=ERROR_RESPONSES)

PROTOBUF = "application/x-protobuf"


async def _log(request: Request, key: ApiKey, writer: LogWriter) -> str:
    headers = [(k, v) for k, v in request.headers.items() if k.lower().startswith("helicone-")]
    return await ingest_async_log(await request.body(), headers, key, writer, None, False)


@logs.post("/v1/trace/custom/log", status_code=204)
@logs.post("/v1/trace/custom/v1/log", status_code=204)
async def log_custom_trace(request: Request, key: ApiKeyDep, writer: WriterDep) -> Response:
    """Log a call; ``timing`` may be left out (then the call is logged as of now)."""
    request_id = await _log(request, key, writer)
    return Response(status_code=204, headers={"helicone-id": request_id})


@logs.post("/v1/trace/custom/log/typed")
async def log_custom_trace_typed(request: Request, key: ApiKeyDep, writer: WriterDep) -> Response:
    """Validate, then log; problems come back as ``{isValid, errors: [{field, message}]}``."""
    try:
        request_id = await _log(request, key, writer)
    except AsyncLogInvalid as invalid:
        return JsonResponse({"isValid": False, "errors": invalid.errors}, status_code=400)
    except BadRequest as bad:
        return JsonResponse(
            {"isValid": False, "errors": [{"field": "body", "message": bad.message}]},
            status_code=400,
        )
    return JsonResponse({"isValid": True, "errors": []}, headers={"helicone-id": request_id})


async def _traces(request: Request, key: ApiKey, writer: LogWriter) -> int:
    body = await request.body()
    with collector_paused():  # nothing an export parses into can be garbage in a cycle
        if request.headers.get("content-type", "").split(";")[0].strip() == PROTOBUF:
            payload = decode_protobuf(body)
        else:
            payload = decode_json(body)
        rows = await trace_rows(payload, key.organization_id, key.id)
        del payload
        writer.enqueue_rows(rows)  # one journal record for the export's spans
        count = len(rows)
        del rows
    return count


@logs.post("/v1/trace/log", status_code=204)
@logs.post("/v1/trace/log-python", status_code=204)
async def log_trace(request: Request, key: ApiKeyDep, writer: WriterDep) -> Response:
    """OpenTelemetry spans: OTLP/JSON, or protobuf (``Content-Type: application/x-protobuf``)."""
    await _traces(request, key, writer)
    return Response(status_code=204)


@logs.post("/v1/traces", tags=["OpenTelemetry"])
async def otlp_traces(request: Request, key: ApiKeyDep, writer: WriterDep) -> Response:
    """The standard OTLP/HTTP trace endpoint: point any OTLP exporter here."""
    await _traces(request, key, writer)
    if request.headers.get("content-type", "").startswith(PROTOBUF):
        return Response(b"", media_type=PROTOBUF)  # an empty ExportTraceServiceResponse
    return JsonResponse({})
