"""Helicone's filter language, compiled in one place for every query (see ``_compile``)."""

from helioscope.store.filters._compile import Compiled, compile_filter, where_or_true
from helioscope.store.filters._fields import MAP_TABLES, TABLES, property_text, property_value
from helioscope.store.filters._operators import EMPTY_VALUE, NULL_VALUE, OPERATORS
from helioscope.store.filters._values import Kind

__all__ = [
    "EMPTY_VALUE",
    "MAP_TABLES",
    "NULL_VALUE",
    "OPERATORS",
    "TABLES",
    "Compiled",
    "Kind",
    "compile_filter",
    "property_text",
    "property_value",
    "where_or_true",
]
