"""What the route-family tests share: Helicone's schemas as validators, and log rows to seed.

``tests/fixtures/helicone_families_schemas.json`` holds the components of Helicone's published
``docs/swagger.json`` that the Customer, Integration, Status, Security, Comparison and
DataIsBeautiful operations use, copied as published. They are OpenAPI 3.0, so two things are
translated for a JSON Schema validator: ``nullable: true`` allows null, and the members of an
``allOf`` are opened (tsoa writes ``ProviderMetrics.metrics`` as a closed ``MetricsData`` and an
extension with ``timeSeriesData``, which no object could satisfy read literally).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match

from helioscope.store import LogRow

_FIXTURE = Path(__file__).parent.parent / "fixtures" / "helicone_families_schemas.json"
_SCHEMAS: dict[str, Any] = json.loads(_FIXTURE.read_text())["components"]["schemas"]


def _translated(node: Any, in_all_of: bool = False) -> Any:
    if isinstance(node, list):
        return [_translated(item, in_all_of) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: _translated(value, key == "allOf")
        for key, value in node.items()
        if key not in ("nullable", "format")
    }
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    if in_all_of:
        out.pop("additionalProperties", None)
    return out


def _all_of_refs(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*(_all_of_refs(item) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = {m["$ref"].rsplit("/", 1)[-1] for m in node.get("allOf", []) if "$ref" in m}
    return found.union(*(_all_of_refs(value) for value in node.values()))


def _opened(schemas: dict[str, Any]) -> dict[str, Any]:
    # A component used as an allOf member ($ref) is opened too.
    found = copy.deepcopy(schemas)
    for name in _all_of_refs(schemas):
        found[name].pop("additionalProperties", None)
    return found


_DOCUMENT = {"components": {"schemas": _translated(_opened(_SCHEMAS))}}


def check(name: str, instance: Any) -> None:
    """Fail unless ``instance`` is valid against Helicone's component ``name``."""
    assert name in _SCHEMAS, f"{name} is not in the fixture"
    schema = {**_DOCUMENT, "$ref": f"#/components/schemas/{name}"}
    error = best_match(Draft7Validator(schema).iter_errors(instance))
    assert error is None, f"{name}: {error.message} at {list(error.absolute_path)}"


def check_array(name: str, instance: Any) -> None:
    """Fail unless ``instance`` is an array of Helicone's component ``name``."""
    assert isinstance(instance, list), instance
    for item in instance:
        check(name, item)


def log_row(org_id: str, at: dt.datetime, **values: Any) -> LogRow:
    """A logged call of ``org_id`` at ``at``; ``values`` override the defaults."""
    defaults: dict[str, Any] = {
        "request_id": str(uuid.uuid4()),
        "organization_id": org_id,
        "request_created_at": at,
        "status": 200,
        "provider": "OPENAI",
        "model": "gpt-4o-mini",
        "latency": 100,
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
    }
    return LogRow(**{**defaults, **values})
