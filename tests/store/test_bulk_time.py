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


def test_the_remembered_value_is_only_reused_for_that_value() -> None:
    # The batch's shared updated_at is formatted once; any other value is formatted anew.
    first, second = TIMES[0], TIMES[0] + dt.timedelta(microseconds=1)
    texts = [_sqlite_time(v) for v in (first, first, second, first, TIMES[2], TIMES[3])]
    assert texts == [
        "2026-01-02 03:04:05.678901",
        "2026-01-02 03:04:05.678901",
        "2026-01-02 03:04:05.678902",
        "2026-01-02 03:04:05.678901",
        "2026-07-01 06:59:59.000001",
        "2026-01-02 03:04:05.000010",
    ]
