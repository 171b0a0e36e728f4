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

``str(uuid.uuid4())`` costs a ``getrandom`` system call and a ``UUID`` object per id; at
thousands of logs per second that showed in the profile. These ids draw their randomness from
the same OS source, 256 ids per call, and format the text directly.
"""

from __future__ import annotations

import os
import threading
import time

_POOL_IDS = 256


class _RequestIds:
    def __init__(self) -> None:
        self._pool = b""
        self._at = 0
        # Two threads must never take the same 16 bytes: a repeated id would overwrite a log.
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            at = self._at
            if at >= len(self._pool):
                self._pool = os.urandom(16 * _POOL_IDS)
                at = 0
            raw = bytearray(self._pool[at : at + 16])
            self._at = at + 16
        raw[0:6] = (time.time_ns() // 1_000_000).to_bytes(6, "big")  # Unix time, ms
        raw[6] = (raw[6] & 0x0F) | 0x70  # version 7
        raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 9562 (4122) variant
        h = raw.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


new_request_id = _RequestIds()
