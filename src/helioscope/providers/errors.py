"""Errors in OpenAI's shape, and each provider's error bodies mapped into it.

OpenAI's SDKs read ``{"error": {"message", "type", "param", "code"}}``; a gateway that answers
in OpenAI's format answers its own errors, and the errors of providers it translates for, in
that shape so that clients raise the right exception with the provider's message.
"""

from __future__ import annotations

from typing import Any

# The ``type`` OpenAI gives each status, which SDKs and users match on.
_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


def error_type(status: int) -> str:
    """OpenAI's error ``type`` for an HTTP status."""
    return _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")


def openai_error(
    message: str, status: int, *, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """An error body in OpenAI's shape."""
    return {"error": {"message": message, "type": error_type(status), "param": param, "code": code}}


def anthropic_error(message: str, status: int) -> dict[str, Any]:
    """An error body in Anthropic's shape (for callers of the Messages API)."""
    return {"type": "error", "error": {"type": error_type(status), "message": message}}


def _message(error: Any, fallback: str) -> str:
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    return fallback


def from_anthropic(body: Any, status: int) -> dict[str, Any]:
    """``{"type": "error", "error": {"type", "message"}}`` in OpenAI's shape."""
    error = body.get("error") if isinstance(body, dict) else None
    kind = error.get("type") if isinstance(error, dict) else None
    mapped = openai_error(_message(error, f"Anthropic answered {status}"), status)
    if isinstance(kind, str):
        mapped["error"]["type"] = kind
    return mapped


def from_gemini(body: Any, status: int) -> dict[str, Any]:
    """Google's ``{"error": {"code", "message", "status"}}`` in OpenAI's shape."""
    if isinstance(body, list) and body:  # a streamed error arrives as a one-item array
        body = body[0]
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("status") if isinstance(error, dict) else None
    return openai_error(
        _message(error, f"Google answered {status}"),
        status,
        code=code.lower() if isinstance(code, str) else None,
    )
