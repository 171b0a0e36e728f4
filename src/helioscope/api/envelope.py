"""Helicone's envelope ``{"data": …, "error": …}``, and the one place errors are rendered."""

from __future__ import annotations

import logging
from typing import Any, Generic, TypeVar

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from helioscope.errors import HelioscopeError
from helioscope.store import UNAVAILABLE_ERRORS, is_transient

logger = logging.getLogger("helioscope.api")

T = TypeVar("T")


class JsonResponse(Response):
    """JSON rendered by orjson (fast, and handles datetimes and dataclasses natively)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Serialise ``content``."""
        return orjson.dumps(content)


class Result(BaseModel, Generic[T]):
    """A successful response: ``{"data": <T>, "error": null}``."""

    data: T
    error: None = None


class ErrorBody(BaseModel):
    """An error response: ``{"data": null, "error": "<what is wrong>"}``."""

    data: None = None
    error: str


# The document's reference to ErrorBody (``error_schemas`` puts it in the components).
ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
# Declared on every route so the OpenAPI document lists the errors it can really return. As a
# reference, not as ``"model": ErrorBody``: for a model FastAPI builds a validator per route
# and status (1,686 of them, the most of what importing the app cost: ~1 s of its ~3.5 s),
# used for nothing but the document.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"content": ERROR_CONTENT, "description": description}
    for status, description in (
        (400, "The request is malformed; the message names the field."),
        (401, "Missing or unknown API key."),
        (403, "The key's scope does not allow this operation; the message names the scope."),
        (404, "No such object in your organization."),
        (413, "The body is over the limit for this route."),
        (503, "The store is unreachable; retry shortly."),
    )
}


def error_schemas() -> dict[str, Any]:
    """The components the error responses refer to: ErrorBody's schema."""
    return {
        "ErrorBody": ErrorBody.model_json_schema(
            mode="serialization", ref_template="#/components/schemas/{model}"
        )
    }


def error_response(status: int, message: str) -> JsonResponse:
    """The envelope for an error."""
    return JsonResponse({"data": None, "error": message}, status_code=status)


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        location = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{location}: {err.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    """Render every error as the envelope, with the right 4xx status; never a bare 500 page."""

    async def on_helioscope_error(_: Request, exc: Exception) -> JsonResponse:
        assert isinstance(exc, HelioscopeError)
        return error_response(exc.status, exc.message)

    async def on_validation_error(_: Request, exc: Exception) -> JsonResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(400, _describe_validation(exc))

    async def on_http_error(_: Request, exc: Exception) -> JsonResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return error_response(exc.status_code, detail)

    async def on_store_error(request: Request, exc: Exception) -> JsonResponse:
        if not is_transient(exc):
            return await on_unexpected(request, exc)
        # The store is unreachable (or locked): the client may retry. Logged once per outage,
        # not once per call.
        request.app.state.services.outage.down(f"{request.method} {request.url.path}", exc)
        return error_response(503, "the store is unavailable; retry shortly")

    async def on_unexpected(request: Request, exc: Exception) -> JsonResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        # Starlette re-raises after this response, and uvicorn then drops the connection: say
        # so, or a client would send its next request on a connection about to be reset.
        response = error_response(500, "internal error")
        response.headers["connection"] = "close"
        return response

    app.add_exception_handler(HelioscopeError, on_helioscope_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    for unavailable in UNAVAILABLE_ERRORS:
        app.add_exception_handler(unavailable, on_store_error)
    app.add_exception_handler(Exception, on_unexpected)
