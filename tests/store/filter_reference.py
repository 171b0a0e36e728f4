"""A reference evaluator for the filter language: plain Python over the same rows.

It states the semantics the SQL compiler must have, on both engines:
- NULL compares false (SQL's three-valued logic, which AND/OR trees cannot tell from false);
- a missing property reads '' (Helicone's ClickHouse map), a missing score never matches;
- property names are case-insensitive (`Env` finds the stored `env`), as header names are;
- `like` is case-sensitive, `ilike` and `contains` are not (ASCII); `contains` is literal;
- "null" with equals/not-equals means IS NULL / IS NOT NULL, "__empty__" means NULL or ''.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from helioscope.store import LogRow

NANO = 1_000_000_000


def _like_regex(pattern: str, flags: int = 0) -> re.Pattern[str]:
    out = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), flags | re.DOTALL)


def _to_time(value: Any) -> dt.datetime:
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC)
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


_CONVERT: dict[str, Any] = {
    "number": float,
    "time": _to_time,
    "bool": lambda v: v if isinstance(v, bool) else v == "true",
    "text": str,
}

_OPS: dict[str, Any] = {
    "equals": lambda a, v: a == v,
    "not-equals": lambda a, v: a != v,
    "gt": lambda a, v: a > v,
    "gte": lambda a, v: a >= v,
    "lt": lambda a, v: a < v,
    "lte": lambda a, v: a <= v,
    "like": lambda a, v: _like_regex(v).fullmatch(a) is not None,
    "ilike": lambda a, v: _like_regex(v.lower()).fullmatch(a.lower()) is not None,
    "contains": lambda a, v: v.lower() in a.lower(),
    "not-contains": lambda a, v: v.lower() not in a.lower(),
}


def compare(op: str, actual: Any, value: Any, kind: str) -> bool:
    if op in ("equals", "not-equals") and value == "null":
        return (actual is None) == (op == "equals")
    if op in ("equals", "not-equals") and value == "__empty__":
        empty = actual is None or (kind == "text" and actual == "")
        return empty == (op == "equals")
    if actual is None:
        return False
    return bool(_OPS[op](actual, _CONVERT[kind](value)))


def _total(row: LogRow) -> int:
    return (row.prompt_tokens or 0) + (row.completion_tokens or 0)


COLUMNS: dict[str, tuple[str, Any]] = {
    "latency": ("number", lambda r: r.latency),
    "status": ("number", lambda r: r.status),
    "model": ("text", lambda r: r.model),
    "user_id": ("text", lambda r: r.user_id or ""),
    "prompt_tokens": ("number", lambda r: r.prompt_tokens),
    "completion_tokens": ("number", lambda r: r.completion_tokens),
    "total_tokens": ("number", _total),
    "request_created_at": ("time", lambda r: r.request_created_at),
    "threat": ("bool", lambda r: r.threat),
    "request_body": ("text", lambda r: r.request_body),
    "target_url": ("text", lambda r: r.target_url),
}


def _all(ops: dict[str, Any], actual: Any, kind: str) -> bool:
    return all(compare(op, actual, v, kind) for op, v in ops.items())


def _column(column: str, operators: dict[str, Any], row: LogRow) -> bool:
    if column == "properties":
        return all(_all(ops, _property(row.properties, k), "text") for k, ops in operators.items())
    if column == "scores":
        return all(
            k in row.scores and _all(ops, float(row.scores[k]), "number")
            for k, ops in operators.items()
        )
    if column == "cost":  # compared in the stored unit, USD x 1e9, with the value floored
        return all(
            compare(op, row.cost, v if v == "null" else math.floor(float(v) * NANO), "number")
            for op, v in operators.items()
        )
    kind, read = COLUMNS[column]
    return _all(operators, read(row), kind)


def _leaf(leaf: dict[str, Any], row: LogRow) -> bool:
    return all(
        _column(column, operators, row)
        for table, columns in leaf.items()
        for column, operators in columns.items()
    )


def evaluate(node: Any, row: LogRow) -> bool:
    """Whether ``row`` matches the filter tree (the WHERE part)."""
    if node == "all":
        return True
    if "operator" in node:
        left, right = evaluate(node["left"], row), evaluate(node["right"], row)
        return (left and right) if node["operator"] == "and" else (left or right)
    return _leaf(node, row)


def _property(properties: dict[str, str], key: str) -> str:
    """Property names are case-insensitive: the key as given, else lower-cased, else ''."""
    if key in properties:
        return properties[key]
    return properties.get(key.lower(), "")
