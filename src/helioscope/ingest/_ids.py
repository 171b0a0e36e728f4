"""Request ids: time-ordered UUIDs (version 7, RFC 9562), made cheaply.

The log's primary key is ``(organization_id, request_id)``, a B-tree on both engines (and the
bodies table has the same key). Random (version 4) ids put every new row at a random leaf of
those trees: once they outgrow the page cache, each insert reads a page from the OS and dirties
another whole page for the WAL, and the existence check reads more. A version 7 id starts with
the time in milliseconds, so new rows go to the right edge of the trees, whose pages stay hot:
the writer's CPU per row, on a log of 100,000 rows, went from 64.5 to 41.9 µs
(``bench/writer.py``, README "Benchmarks"). An id stays a valid UUID in canonical text,
unique (74 random bits within a millisecond), and reveals only when the call was made, which
the log stores anyway.

``str(uuid.uuid4())`` costs a ``getrandom`` system call and a ``UUID`` object per id, and
formatting each id's bytes (``bytearray``, ``hex()``, five slices joined) still cost ~16,000
instructions an id (callgrind), ~2% of a proxied call's. Here the random part of 256 ids is
drawn and formatted at once, in C (``hex()`` and strided slice assignments into one buffer),
and handed out one ready string at a time; the time part is formatted once per millisecond
(and at a call per millisecond or fewer, as under valgrind, that was most of an id's ~8,000
instructions: it is now made by ``int.to_bytes`` and ``bytes.hex``, not a format spec and
slices). An id is then the two joined: ~3,000 instructions.
"""

from __future__ import annotations

import os
import time
from collections import deque

_POOL_IDS = 256
# An id's random part as text: "7xxx-Vxxx-xxxxxxxxxxxx" (the version digit, 12 random bits, the
# variant digit with 2 more, then 60): 22 characters, from the hex of 11 random bytes.
_SUFFIX = 22
# The variant digit (RFC 9562: binary 10xx) from a random hex digit: 8, 9, a or b.
_VARIANT = bytes.maketrans(b"0123456789abcdef", b"89ab89ab89ab89ab")


def _suffixes() -> list[str]:
    """The random parts of ``_POOL_IDS`` ids."""
    text = bytearray(os.urandom(_SUFFIX // 2 * _POOL_IDS).hex().encode())
    text[0::_SUFFIX] = b"7" * _POOL_IDS  # the version digit replaces a random one
    text[4::_SUFFIX] = b"-" * _POOL_IDS
    text[5::_SUFFIX] = text[5::_SUFFIX].translate(_VARIANT)
    text[9::_SUFFIX] = b"-" * _POOL_IDS
    joined = text.decode()
    return [joined[at : at + _SUFFIX] for at in range(0, len(joined), _SUFFIX)]


class _RequestIds:
    def __init__(self) -> None:
        # Taken with popleft, atomic across threads: an id's random part is never handed out
        # twice (a repeated id would overwrite a log). Two threads that find it empty both
        # refill it, which is harmless.
        self._pool: deque[str] = deque()
        # The last millisecond and its text, in one attribute: a thread reads a matching pair.
        self._time: tuple[int, str] = (-1, "")

    def __call__(self) -> str:
        try:
            suffix = self._pool.popleft()
        except IndexError:
            self._pool.extend(_suffixes())
            suffix = self._pool.popleft()
        ms = time.time_ns() // 1_000_000  # Unix time, ms
        last, prefix = self._time
        if ms != last:
            # "xxxxxxxx-xxxx-": 48 bits of milliseconds in hex, a dash after the first 8 digits,
            # in C (to_bytes and hex with a separator: half a format spec and two slices' cost).
            prefix = ms.to_bytes(6, "big").hex("-", -4) + "-"
            self._time = (ms, prefix)
        return prefix + suffix


new_request_id = _RequestIds()
