"""Helicone's request headers, parsed once into a typed object.

The gateway reads them from the HTTP request; the async log endpoints read the same names from
``providerRequest.meta``. Lookup is case-insensitive, as in Helicone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

_UUID = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.IGNORECASE
)
_PROPERTY_PREFIX = "helicone-property-"
# Copied into properties under these exact, mixed-case names (Helicone builds sessions on them).
_NAMED_PROPERTIES = {
    "helicone-session-id": "Helicone-Session-Id",
    "helicone-session-path": "Helicone-Session-Path",
    "helicone-session-name": "Helicone-Session-Name",
    "helicone-prompt-id": "Helicone-Prompt-Id",
    "helicone-experiment-id": "Helicone-Experiment-Id",
}


def is_valid_request_id(value: str) -> bool:
    """True for a UUID of versions 1 to 5, the only ids Helicone accepts from a client."""
    return bool(_UUID.match(value))


def _flag(value: str) -> bool:
    return value.strip().lower() == "true"


def _request_id(value: str) -> str | None:
    value = value.strip()
    return value if is_valid_request_id(value) else None


def _as_sent(value: str) -> str:
    return value


# The option headers: the field each sets, and how its value is read. (Looked up once per
# Helicone header; most are not options: auth, properties, cache...)
_OPTIONS: dict[str, tuple[str, Callable[[str], object]]] = {
    "helicone-request-id": ("request_id", _request_id),
    "helicone-user-id": ("user_id", _as_sent),
    "helicone-model-override": ("model_override", _as_sent),
    "helicone-omit-request": ("omit_request", _flag),
    "helicone-omit-response": ("omit_response", _flag),
    "helicone-stream-usage": ("stream_usage", _flag),
    "helicone-prompt-id": ("prompt_id", _as_sent),
    "helicone-prompt-version": ("prompt_version", _as_sent),
}


class HeliconeHeaders(msgspec.Struct, array_like=True):
    """The ``Helicone-*`` headers that shape how a call is logged.

    A msgspec Struct, by place (``array_like``): a journalled capture's header holds these
    fields as a list in this order (``_records.capture_parts``), and the log writer decodes it
    straight into this type, typed, with no Python ``__init__`` a row (``JournalCapture``). A
    field added here goes at the end, with a default: frames journalled before it still read.
    """

    request_id: str | None = None
    user_id: str | None = None
    properties: dict[str, str] = {}  # a new dict for each instance (msgspec copies it)
    model_override: str | None = None
    omit_request: bool = False
    omit_response: bool = False
    stream_usage: bool = False
    prompt_id: str | None = None
    prompt_version: str | None = None
    prompt_inputs: dict[str, Any] | None = None  # set by the gateway when it applies a prompt

    @classmethod
    def parse(cls, headers: Iterable[tuple[str, str]]) -> HeliconeHeaders:
        """Read Helicone headers from ``(name, value)`` pairs; other headers are ignored."""
        out = cls()
        for raw_name, value in headers:
            name = raw_name.lower()
            if not name.startswith("helicone-"):
                continue
            if name.startswith(_PROPERTY_PREFIX):
                # Helicone reads header names lower-cased, so property keys are lower-case.
                out.properties[name[len(_PROPERTY_PREFIX) :]] = value
            elif name in _NAMED_PROPERTIES:
                out.properties[_NAMED_PROPERTIES[name]] = value
            option = _OPTIONS.get(name)
            if option is not None:
                setattr(out, option[0], option[1](value))
        return out
