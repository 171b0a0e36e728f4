"""The sandboxed side of a Python code evaluator. Runs as its own process, stdlib only.

It reads one JSON job from stdin (the evaluator's code, the bodies, the limits), locks itself
down, runs the code, and writes one JSON line to stdout: ``{"output", "traces", "error",
"isolation"}``. The lock-down happens in this order, before any untrusted line runs:

1. Resource limits (``setrlimit``): address space (memory), CPU seconds, no file writes
   (``RLIMIT_FSIZE`` 0), no new processes (``RLIMIT_NPROC`` 0), few file descriptors, no core.
2. Landlock (Linux 5.13+), when the kernel has it: the process may only read the Python
   standard library. Every other path (the Helioscope database, its configuration, ``/proc``
   of other processes) is refused by the kernel, whatever the code does, ``ctypes`` included.
   With Landlock ABI 4+ it may not open or accept TCP connections; with ABI 6+ it may not
   signal processes outside the sandbox.
3. An audit hook (PEP 578) that refuses ``open`` outside the standard library, sockets,
   subprocesses, ``os.system``/``exec``/``fork`` and loading ``ctypes``. This is a second layer
   and the only file barrier where Landlock is missing; on its own it is best effort, since
   hostile code inside one interpreter can in principle get around an audit hook.

The parent (``sandbox.py``) also starts this process with an empty environment (no secrets to
read), no inherited file descriptors, a fresh empty working directory, and kills it on a
wall-clock timeout.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import sys
import sysconfig
import traceback
from typing import Any

# Filesystem rights each Landlock ABI knows (ABI 2 adds REFER, 3 TRUNCATE, 5 IOCTL_DEV).
_FS_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1}
_READ = (1 << 0) | (1 << 2) | (1 << 3)  # execute, read file, read dir
_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446  # same number on every arch
_PR_SET_NO_NEW_PRIVS = 38


def readable_roots() -> list[str]:
    """The directories the evaluator may read: the standard library and its extensions."""
    paths = sysconfig.get_paths()
    roots = {paths["stdlib"], paths["platstdlib"], os.path.join(paths["stdlib"], "lib-dynload")}
    return sorted(os.path.realpath(p) for p in roots if os.path.isdir(p))


def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))


def _landlock(roots: list[str]) -> int:
    """Confine the process to reading ``roots``; returns the Landlock ABI used (0: none).

    ``ctypes`` is imported here and dropped from ``sys.modules`` afterwards, so that the code
    under evaluation finds no reference to it and cannot import it again (the audit hook).
    """
    import ctypes

    class _RulesetAttr(ctypes.Structure):
        _fields_ = [
            ("handled_access_fs", ctypes.c_uint64),
            ("handled_access_net", ctypes.c_uint64),
            ("scoped", ctypes.c_uint64),
        ]

    class _PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

    libc = ctypes.CDLL(None, use_errno=True)
    abi = int(libc.syscall(_SYS_CREATE, None, 0, 1))  # LANDLOCK_CREATE_RULESET_VERSION
    if abi < 1:
        return 0
    fs = _FS_RIGHTS_BY_ABI.get(abi, (1 << 16) - 1)
    attr = _RulesetAttr(fs, 0b11 if abi >= 4 else 0, 0b11 if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = int(libc.syscall(_SYS_CREATE, ctypes.byref(attr), size, 0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    for root in roots:
        fd = os.open(root, os.O_PATH | os.O_CLOEXEC)
        rule = _PathBeneath(_READ & fs, fd)
        if libc.syscall(_SYS_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {root}")
        os.close(fd)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.syscall(_SYS_RESTRICT, ruleset, 0) != 0:
        raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    os.close(ruleset)
    return abi


def _forget_ctypes() -> None:
    for name in [m for m in sys.modules if m == "ctypes" or m.startswith(("ctypes.", "_ctypes"))]:
        del sys.modules[name]


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_DENIED_EVENTS = (
    *("socket.", "subprocess.", "os.system", "os.exec", "os.posix_spawn", "os.fork"),
    *("os.spawn", "ctypes.", "os.kill", "os.killpg", "signal.pthread_kill"),
)


def _audit_hook(roots: list[str]) -> None:
    prefixes = tuple(root.rstrip("/") + "/" for root in roots)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path = args[0]
            if isinstance(path, int):
                return
            real = os.path.realpath(os.fsdecode(path))
            writes = bool((args[1] or "r").strip("rbt")) or bool((args[2] or 0) & _WRITE_FLAGS)
            if not real.startswith(prefixes) or writes:
                raise PermissionError(f"the evaluator sandbox does not allow opening {real}")
        elif event == "import" and args[0] in ("ctypes", "_ctypes"):
            raise PermissionError("the evaluator sandbox does not allow ctypes")
        elif event.startswith(_DENIED_EVENTS):
            raise PermissionError(f"the evaluator sandbox does not allow {event}")

    sys.addaudithook(hook)


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _run(job: dict[str, Any]) -> dict[str, Any]:
    namespace: dict[str, Any] = {
        "__name__": "__evaluator__",
        "request_body": job["request_body"],
        "response_body": job["response_body"],
        "request": _parse(job["request_body"]),
        "response": _parse(job["response_body"]),
        "inputs": job["inputs"],
    }
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(job["code"], "<evaluator>", "exec"), namespace)
        evaluate = namespace.get("evaluate")
        value = (
            evaluate(namespace["request"], namespace["response"], namespace["inputs"])
            if callable(evaluate)
            else None
        )
    traces = [line for line in printed.getvalue().splitlines() if line.strip()]
    if value is None:
        value = traces[-1] if traces else None
    if value is None:
        raise ValueError("the evaluator returned nothing: define evaluate() or print the score")
    return {
        "output": json.dumps(value) if isinstance(value, bool) else str(value),
        "traces": traces,
    }


def main() -> None:
    """Read the job, lock down, run it, report."""
    job = json.loads(sys.stdin.buffer.read())
    out = os.fdopen(os.dup(1), "w")  # kept before the code can touch fd 1
    roots = readable_roots()
    _limit(int(job["memory_bytes"]), int(job["cpu_seconds"]))
    abi = _landlock(roots)
    _forget_ctypes()
    _audit_hook(roots)
    result: dict[str, Any] = {"output": None, "traces": [], "error": None}
    try:
        result.update(_run(job))
    except MemoryError:
        result["error"] = f"memory limit of {int(job['memory_bytes']) >> 20} MB exceeded"
    except BaseException as exc:  # anything the evaluator raises, SystemExit too, is its result
        result["error"] = f"{type(exc).__name__}: {exc}"
        result["traces"] = traceback.format_exception_only(type(exc), exc)
    result["isolation"] = f"landlock-abi-{abi}" if abi else "audit-hook"
    out.write(json.dumps(result) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
