import datetime as dt

import pytest
from sqlalchemy.dialects import sqlite

from helioscope.store._dialects import UtcDateTime, _sqlite_time

TIMES = [
    dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC),
    dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),  # no fraction: still six digits
    dt.datetime(2026, 6, 30, 23, 59, 59, 1, tzinfo=dt.timezone(dt.timedelta(hours=-7))),
    dt.datetime(2026, 1, 2, 3, 4, 5, 10),  # naive values are UTC already
]


@pytest.mark.parametrize("value", TIMES)
def test_bulk_writer_time_text_is_what_sqlalchemy_writes(value: dt.datetime) -> None:
    dialect = sqlite.dialect()
    kind = UtcDateTime()
    processor = kind.dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None
    assert _sqlite_time(value) == processor(value)
