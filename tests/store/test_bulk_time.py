import datetime as dt

import pytest
from sqlalchemy.dialects import sqlite

from helioscope.store import _sqlite_time as sqlite_time_module
from helioscope.store._dialects import UtcDateTime
from helioscope.store._sqlite_time import SqliteTime, sqlite_time, sqlite_times

TIMES = [
    dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC),
    dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),  # no fraction: still six digits
    dt.datetime(2026, 6, 30, 23, 59, 59, 1, tzinfo=dt.timezone(dt.timedelta(hours=-7))),
    dt.datetime(2026, 1, 2, 3, 4, 5, 10),  # naive values are UTC already
    dt.datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=dt.UTC),  # the same second as the first
    dt.datetime(2026, 1, 2, 4, 4, 5, 2, tzinfo=dt.timezone(dt.timedelta(hours=1))),  # again
    dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=dt.UTC),  # before the epoch
    dt.datetime(1, 1, 1, 0, 0, 0, 1),
    dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
]


def _sqlalchemy_text(value: dt.datetime) -> str:
    dialect = sqlite.dialect()
    kind = UtcDateTime()
    processor = kind.dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None
    text: str = processor(value)
    return text


@pytest.mark.parametrize("value", TIMES)
def test_bulk_writer_time_text_is_what_sqlalchemy_writes(value: dt.datetime) -> None:
    assert sqlite_time(value) == _sqlalchemy_text(value)


def test_the_text_kept_per_second_is_right_for_every_value_and_bounded() -> None:
    # The text up to the second is kept per second (the fraction formatted per value): values
    # in the same second, in every order and zone, come out as SQLAlchemy writes them, and
    # a long run of distinct seconds (a backfill) does not grow what is kept past its bound.
    times = SqliteTime()
    start = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    values = [start + dt.timedelta(milliseconds=250 * i) for i in range(20_000)]
    values += [v.astimezone(dt.timezone(dt.timedelta(hours=-5))) for v in values[::7]]
    values += [v.replace(tzinfo=None) for v in values[::11]]
    for value in [*values, *reversed(values)]:
        assert times(value) == _sqlalchemy_text(value)
    assert len(times._seconds) <= 4096


def test_a_remembered_second_is_only_reused_for_that_second() -> None:
    first, second = TIMES[0], TIMES[0] + dt.timedelta(microseconds=1)
    texts = [sqlite_time(v) for v in (first, first, second, first, TIMES[2], TIMES[3])]
    assert texts == [
        "2026-01-02 03:04:05.678901",
        "2026-01-02 03:04:05.678901",
        "2026-01-02 03:04:05.678902",
        "2026-01-02 03:04:05.678901",
        "2026-07-01 06:59:59.000001",
        "2026-01-02 03:04:05.000010",
    ]


def test_many_times_at_once_are_what_sqlalchemy_writes_whatever_the_mix() -> None:
    # The batch path (one orjson call) takes slices of UTC values with a fraction, the rows'
    # usual times; a slice holding anything else (None, another zone, no fraction, naive)
    # goes value by value. Either way each text is SQLAlchemy's.
    start = dt.datetime(2026, 3, 4, 5, 6, 7, 1, tzinfo=dt.UTC)
    usual = [start + dt.timedelta(microseconds=250_001 * i) for i in range(300)]
    assert sqlite_times(usual) == [_sqlalchemy_text(v) for v in usual]
    assert sqlite_times([]) == []
    for odd in [*TIMES, None]:
        for mix in ([odd], [*usual[:5], odd], [odd, *usual[:5]], [usual[0], odd, usual[1]]):
            expected = [None if v is None else _sqlalchemy_text(v) for v in mix]
            assert sqlite_times(mix) == expected, mix


def test_the_batch_path_takes_the_usual_times(monkeypatch: pytest.MonkeyPatch) -> None:
    # (The fallback alone would pass the test above: this one fails if the batch path is
    # never taken.) The usual times never reach the value-by-value converter.
    usual = [dt.datetime(2026, 3, 4, 5, 6, 7, 1 + i, tzinfo=dt.UTC) for i in range(100)]
    usual += [v.replace(tzinfo=None) for v in usual]
    one_by_one: list[dt.datetime | None] = []

    def spy(value: dt.datetime | None) -> str | None:
        one_by_one.append(value)
        return sqlite_time(value)

    monkeypatch.setattr(sqlite_time_module, "sqlite_time", spy)
    assert sqlite_times(usual) == [_sqlalchemy_text(v) for v in usual]
    assert one_by_one == []
    sqlite_times([*usual, None])
    assert one_by_one == [*usual, None]
