"""Field types shared by the API's bodies: how a number is written, how far a page may start."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Path
from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema

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

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# The largest magnitude a float input may have: past it a whole float no longer fits a 64-bit
# integer column or JSON integer (a score of 1e21 is stored as the integer 1000000000000000000000).
FLOAT_LIMIT = 9.2e18

Int = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
"""Every integer a client sends (bodies, paths, queries): what a 64-bit column can hold.

Python's integers have no size, so without a bound ``{"minimum_request_count": 10**30}``
reaches the database driver and fails there as a 500; bounded, it is a 400 naming the field.
"""

Float = Annotated[float, Field(ge=-FLOAT_LIMIT, le=FLOAT_LIMIT, allow_inf_nan=False)]
"""Every number a client sends that may have a fraction (scores, thresholds, times)."""


def storable_json(value: Any) -> Any:
    """``value`` when the store can write it as JSON, else ``ValueError`` saying why."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:  # PostgreSQL's text and JSONB cannot hold a NUL character
                raise ValueError("text may not contain NUL (\\u0000) characters")
            continue
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, int) and not INT64_MIN <= item <= INT64_MAX:
            raise ValueError(f"the integer {item} does not fit in 64 bits")
        if isinstance(item, float) and not -1.8e308 < item < 1.8e308:
            raise ValueError("numbers must be finite")
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


Json = Annotated[Any, AfterValidator(storable_json)]
"""A free-form JSON value a client sends (metadata, inputs, templates) that the store can write:
integers within 64 bits (the JSON encoder refuses bigger ones), finite numbers, no NUL."""

JsonObject = Annotated[dict[str, Any], AfterValidator(storable_json)]
"""A free-form JSON object a client sends, bounded like ``Json``."""

Count = Annotated[int, Field(ge=0, le=INT64_MAX)]
"""A non-negative integer a client sends (a count, a page, an index), bounded like ``Int``."""

IntPath = Annotated[int, Path(ge=INT64_MIN, le=INT64_MAX)]
"""An integer path parameter (an API key id), bounded like ``Int``."""


def _template(value: Any) -> Any:
    # The UI and SDKs send the template as an object; some clients send it as JSON text.
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise ValueError("a template must be a JSON object (or JSON text of one)") from None
    if not isinstance(value, dict):
        raise ValueError(f"a template must be a JSON object, got {type(value).__name__}")
    return storable_json(value)


Template = Annotated[dict[str, Any], BeforeValidator(_template)]
"""A prompt template a client writes: a JSON object (``{"model", "messages", ...}``).

Checked on write, because everything that reads a template (compile, inputs, experiments)
expects an object: a stored ``5`` made every later read of that prompt fail.
"""

TextMap = Annotated[dict[str, str], AfterValidator(storable_json)]
"""Named texts a client sends (a row's inputs): no NUL in a key or a value, as in ``Json``."""
