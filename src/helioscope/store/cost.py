"""Cost: kept as an integer in USD x 1e9, Helicone's unit; it leaves the store in USD.

The log's ``cost`` column and ``LogRow.cost`` hold nano-USD, so sums stay exact and filters
compare integers as Helicone does. Everything the store returns under a cost key (``cost``,
``total_cost``) is a float in USD: query functions convert with ``usd`` in SQL. This is the
one home of the unit; nothing else writes 1e9.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Float, cast, func

NANO_USD = 1_000_000_000


def usd(nano: ColumnElement[Any]) -> ColumnElement[float]:
    """A nano-USD expression in USD (NULL stays NULL)."""
    return cast(nano, Float()) / NANO_USD


def usd_sum(nano: ColumnElement[Any]) -> ColumnElement[float]:
    """The sum of a nano-USD column in USD; 0.0 over no rows or only NULLs."""
    return usd(func.coalesce(func.sum(nano), 0))
