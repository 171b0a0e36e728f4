"""The server's own log lines: on stderr, with the time, the level and the worker's name."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

from helioscope.cli._logs import log_to_stderr


@pytest.fixture
def helioscope_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("helioscope")
    handlers, level = list(logger.handlers), logger.level
    yield logger
    logger.handlers[:], logger.level = handlers, level


def test_lines_carry_time_level_and_worker(
    helioscope_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    log_to_stderr("1")
    log_to_stderr("1")  # once per process: no second handler
    helioscope_logger.getChild("ingest").info("store reachable again after %.1f s", 2.0)
    err = capsys.readouterr().err
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO helioscope\[1\]: store reachable again "
        r"after 2.0 s\n",
        err,
    ), err


def test_a_server_alone_has_no_worker_tag(
    helioscope_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    log_to_stderr(None)
    helioscope_logger.warning("journal full")
    assert capsys.readouterr().err.endswith(" WARNING helioscope: journal full\n")
