"""Helicone's request headers, parsed once into a typed object.

The gateway reads them from the HTTP request; the async log endpoints read the same names from
``providerRequest.meta``. Lookup is case-insensitive, as in Helicone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

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


# The headers ``_read_option`` reads.
_OPTIONS = frozenset(
    {
        "helicone-request-id",
        "helicone-user-id",
        "helicone-model-override",
        "helicone-omit-request",
        "helicone-omit-response",
        "helicone-stream-usage",
        "helicone-prompt-id",
        "helicone-prompt-version",
    }
)


def is_valid_request_id(value: str) -> bool:
    """True for a UUID of versions 1 to 5, the only ids Helicone accepts from a client."""
    return bool(_UUID.match(value))


def _flag(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "true"


@dataclass(slots=True)
class HeliconeHeaders:
    """The ``Helicone-*`` headers that shape how a call is logged."""

    request_id: str | None = None
    user_id: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
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
            if name in _OPTIONS:  # (most Helicone headers are not: auth, properties, cache...)
                out._read_option(name, value)
        return out

    def _read_option(self, name: str, value: str) -> None:
        if name == "helicone-request-id":
            self.request_id = value.strip() if is_valid_request_id(value.strip()) else None
        elif name == "helicone-user-id":
            self.user_id = value
        elif name == "helicone-model-override":
            self.model_override = value
        elif name == "helicone-omit-request":
            self.omit_request = _flag(value)
        elif name == "helicone-omit-response":
            self.omit_response = _flag(value)
        elif name == "helicone-stream-usage":
            self.stream_usage = _flag(value)
        elif name == "helicone-prompt-id":
            self.prompt_id = value
        elif name == "helicone-prompt-version":
            self.prompt_version = value
