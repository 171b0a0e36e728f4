"""Field types shared by the API's bodies: how a number is written, how far a page may start."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, PlainSerializer, WithJsonSchema

from helioscope.store import MAX_OFFSET


def _as_javascript_number(value: float) -> float | int:
    # JSON.stringify writes 200, not 200.0: a whole number below 1e21 has no fraction.
    return int(value) if -1e21 < value < 1e21 and value.is_integer() else value


Number = Annotated[
    float,
    PlainSerializer(_as_javascript_number, return_type=Any, when_used="json"),
    WithJsonSchema({"type": "number"}),
]
"""A number in a response, rendered as Helicone's (JavaScript) server renders it.

Helicone's API types its counts, statuses and tokens as ``number``, and its server writes a
whole one as ``200``; pydantic would write a ``float`` field as ``200.0``, which clients that
format or compare types (Python's ``json`` gives them a float) see as different.
"""

Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]
"""Where a page starts: SQL's OFFSET, a 64-bit integer on both engines."""
