"""Where the server's own log lines go: stderr, with the time, the level and the worker.

uvicorn configures its own loggers only; without a handler, the ``helioscope`` logger's lines
reached Python's last-resort handler, which prints warnings and errors as the bare message and
drops everything below (an outage's start and end had no time, and with ``serve --workers``
nothing said which process wrote them).
"""

from __future__ import annotations

import logging
import sys

_FORMAT = "%(asctime)s %(levelname)s helioscope{worker}: %(message)s"


def log_to_stderr(worker: str | None) -> None:
    """Send the ``helioscope`` logger's lines (info and up) to stderr, once per process.

    ``worker``: this process's name among ``serve --workers`` (None when it serves alone).
    """
    logger = logging.getLogger("helioscope")
    if any(getattr(h, "helioscope", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.helioscope = True  # type: ignore[attr-defined]
    tag = "" if worker is None else f"[{worker}]"
    handler.setFormatter(logging.Formatter(_FORMAT.format(worker=tag)))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
