"""Small statistics for the public statistics routes: nearest-rank quantiles, means, changes."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

BUCKET_FORMAT = "%Y-%m-%d %H:%M:%S"


def quantile(values: Sequence[float], p: float) -> float:
    """The nearest-rank p-th percentile (the smallest value with p% at or below it); 0 if none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return float(ordered[rank - 1])


def mean(values: Sequence[float]) -> float:
    """The mean, 0 if there are no values."""
    return float(sum(values) / len(values)) if values else 0.0


def ratio(part: float, whole: float) -> float:
    """``part / whole`` in percent, 0 when ``whole`` is 0."""
    return 100.0 * part / whole if whole else 0.0


def change(now: float, before: float) -> float:
    """The change from ``before`` to ``now`` in percent, 0 when ``before`` is 0."""
    return 100.0 * (now - before) / before if before else 0.0


def bucket_start(text: str) -> dt.datetime:
    """A UTC bucket start as the store gives it (``YYYY-MM-DD HH:MM:SS``)."""
    return dt.datetime.strptime(str(text)[:19], BUCKET_FORMAT).replace(tzinfo=dt.UTC)


def day_text(start: dt.datetime) -> str:
    """A day as the routes print it (``YYYY-MM-DD``)."""
    return start.strftime("%Y-%m-%d")
