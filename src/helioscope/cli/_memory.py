"""glibc malloc settings for a server that moves large bodies through several threads.

Bodies of 200 KB are allocated and freed by the event loop, the journal reader's thread and the
SQLite driver's thread. By default glibc gives each thread its own arena and raises its mmap
threshold after the first large free, so freed bodies stay in the heaps and the resident size
grows with the body size (bench/memory.py, 4,000 calls of 200 KB: peak 300 MB without these
settings, 258 MB with them, same writer budget). A fixed mmap threshold returns every large
body to the system when it is freed; two arenas bound the per-thread slack. No effect (and no
error) off glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def tune_malloc() -> None:
    """Apply the settings to this process (before the server allocates anything large)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return
    mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
    mallopt(_M_ARENA_MAX, 2)
