"""Request ids: random (version 4) UUIDs, made cheaply.

``str(uuid.uuid4())`` costs a ``getrandom`` system call and a ``UUID`` object per id; at
thousands of logs per second that showed in the profile. These ids draw their randomness from
the same OS source, 256 ids per call, and format the text directly.
"""

from __future__ import annotations

import os
import threading

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
        raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
        raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
        h = raw.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


new_request_id = _RequestIds()
