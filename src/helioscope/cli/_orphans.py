"""A child of ``serve --workers`` whose supervisor is gone stops as SIGTERM stops it.

A supervisor killed with SIGKILL cannot stop its children: they went on serving with nothing
to restart them, holding their journals' locks, so that the next ``serve`` exited 78 until
someone found and killed them by hand. Now, on Linux, the kernel sends each child SIGTERM when
its supervisor dies (``PR_SET_PDEATHSIG``); elsewhere a thread of the child looks once a second
whether its parent changed, and sends it then. Either way the child drains as under SIGTERM: it
stops accepting, finishes its calls, its writer stores what it can within
``HELIOSCOPE_SHUTDOWN_DRAIN_SECONDS``, and what is left stays in the journal for the next start.

``PR_SET_PDEATHSIG`` follows the *thread* that forked the child: ``supervise`` starts (and
restarts) every child from the main thread, which lives as long as the supervisor. A supervisor
that died before its child asked for the signal is not waited for: the child, which finds
another parent then, exits before it starts anything. Nothing of this runs per call.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

# The supervisor's pid, in each child's environment: the parent it expects to have.
SUPERVISOR_PID = "HELIOSCOPE_SUPERVISOR_PID"
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _terminate() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


def stop_with_supervisor() -> None:
    """In a child of ``supervise``: SIGTERM itself when the supervisor is gone.

    Outside one (no ``HELIOSCOPE_SUPERVISOR_PID``), nothing. Exits at once if it is gone already.
    """
    expected = os.environ.pop(SUPERVISOR_PID, None)  # (not handed on to what the child runs)
    if expected is None:
        return
    supervisor = int(expected)
    if not _parent_death_signal(signal.SIGTERM):
        watch_parent(supervisor, 1.0, _terminate)
    # Asked after the fork: a supervisor that died before then sends no signal.
    if os.getppid() != supervisor:
        os.write(2, b"helioscope: its supervisor is gone; not starting\n")
        sys.exit(0)


def _parent_death_signal(signum: int) -> bool:
    """Have the kernel send ``signum`` when the parent dies: False where it cannot (not Linux)."""
    if sys.platform != "linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        args = (ctypes.c_ulong(signum), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))
        done: int = libc.prctl(_PR_SET_PDEATHSIG, *args)  # (unsigned longs, as the kernel reads)
    except (OSError, AttributeError):  # no prctl in this C library
        return False
    return done == 0


def watch_parent(parent: int, interval: float, gone: Callable[[], None]) -> threading.Thread:
    """Call ``gone`` once the parent is no longer ``parent``, looking every ``interval`` s."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        gone()

    thread = threading.Thread(target=watch, name="helioscope-supervisor-watch", daemon=True)
    thread.start()
    return thread
