"""The sandboxed side of a Python code evaluator. Runs as its own process, stdlib only.

Two processes per evaluation. The **supervisor** (this script's main process, started by
``sandbox.py`` in a session of its own) reads one JSON job from stdin, makes itself the
*child subreaper* (``PR_SET_CHILD_SUBREAPER``) and forks the **evaluator**, which locks itself
down and runs the untrusted code. The supervisor never runs untrusted code: it waits for the
evaluator up to the time limit, then kills every process left below it (orphans of the
evaluator, ``setsid`` ones too, are re-parented to the subreaper, so none can slip away) and
writes the one result line, with the run's secret nonce, on the result descriptor the parent
passed (never stdout, which the evaluator owns). The evaluator reports to the supervisor over
a pipe of its own; it cannot reach the result descriptor, and the lines it could forge on that
pipe are only its own output.

The evaluator locks itself down in this order, before any untrusted line runs:

1. Privileges: started as root, its real user becomes one of its own (an unused uid, made
   from its pid) and it drops every capability (``RLIMIT_NPROC`` binds: the kernel does not
   enforce it for root, and counts every process of the real user).
2. Resource limits (``setrlimit``): address space (memory), CPU seconds, no file writes
   (``RLIMIT_FSIZE`` 0), at most ``processes`` new processes (``RLIMIT_NPROC``), few file
   descriptors, no core.
3. Landlock (Linux 5.13+): the process may only read the Python standard library. Every other
   path (the Helioscope database, its configuration, ``/proc`` of other processes) is refused
   by the kernel, whatever the code does, ``ctypes`` included. With Landlock ABI 4+ it may not
   open or accept TCP connections; with ABI 6+ it may not signal processes outside the sandbox.
   Without Landlock the evaluation is refused unless the job allows it (the operator's
   ``HELIOSCOPE_UNSAFE_PYTHON_EVALUATORS=true``): the audit hook alone can be bypassed.
4. An audit hook (PEP 578) that refuses ``open`` outside the standard library, sockets,
   subprocesses, ``os.system``/``exec``/``fork`` and loading ``ctypes``. This is a second layer;
   on its own it is best effort, since hostile code inside one interpreter can get around it.

The parent (``sandbox.py``) also starts the supervisor with an empty environment (no secrets
to read), no inherited file descriptors but the result one, a fresh empty working directory,
and kills its session on a wall-clock backstop.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import select
import signal
import sys
import sysconfig
import time
import traceback
from typing import Any

# Filesystem rights each Landlock ABI knows (ABI 2 adds REFER, 3 TRUNCATE, 5 IOCTL_DEV).
_FS_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1}
_READ = (1 << 0) | (1 << 2) | (1 << 3)  # execute, read file, read dir
_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446  # same number on every arch
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_CHILD_SUBREAPER = 36
# Real uids of evaluations: this plus the evaluator's pid (unique among live processes), a
# range no account uses. RLIMIT_NPROC counts every process of the real user: under a shared
# one (nobody), the cap was set relative to the processes other evaluations ran then, and one
# of those ending let this evaluation start one process more than its ``processes``.
_EVALUATION_UIDS = 0x40000000
_MAX_REPORT = 1 << 20
REFUSED = (
    "Python evaluators are refused on this server: the kernel does not provide Landlock "
    "({reason}), without which evaluator code could read files and secrets of the server. "
    "Deploy on Linux 5.13+ with Landlock enabled, or set HELIOSCOPE_UNSAFE_PYTHON_EVALUATORS=true "
    "to run them behind the audit hook alone (best effort)."
)


def readable_roots() -> list[str]:
    """The directories the evaluator may read: the standard library and its extensions."""
    paths = sysconfig.get_paths()
    roots = {paths["stdlib"], paths["platstdlib"], os.path.join(paths["stdlib"], "lib-dynload")}
    return sorted(os.path.realpath(p) for p in roots if os.path.isdir(p))


def _drop_root() -> None:
    """Started as root: take a real user of this evaluation's own, and drop every capability.

    The kernel never applies ``RLIMIT_NPROC`` to a real uid of 0 or to a process holding
    ``CAP_SYS_RESOURCE``/``CAP_SYS_ADMIN``. The effective uid stays 0 without any capability
    left, only so that the interpreter can still read a standard library that root owns (e.g.
    under ``/root/.pyenv``); Landlock confines what it may read.
    """
    if os.geteuid() != 0:
        return
    import ctypes

    class _Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class _Data(ctypes.Structure):
        _fields_ = [(n, ctypes.c_uint32) for n in ("effective", "permitted", "inheritable")]

    os.setgroups([])
    os.setresuid(_EVALUATION_UIDS + os.getpid(), 0, 0)
    nothing = (_Data * 2)()  # _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set, all 0
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.capset(ctypes.byref(_Header(0x20080522, 0)), nothing) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def _processes_of(uid: int) -> int:
    """How many processes ``uid`` runs now (``RLIMIT_NPROC`` counts them all, this one too)."""
    count = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/status", "rb") as status:
                    for line in status:
                        if line.startswith(b"Uid:"):
                            count += int(line.split()[1]) == uid
                            break
            except OSError:
                continue  # gone meanwhile
    return count


def _limit(memory_bytes: int, cpu_seconds: int, processes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    # The limit counts every process of the user; ``processes`` more than it runs now.
    nproc = _processes_of(os.getuid()) + processes
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
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


def _evaluate(job: dict[str, Any], report: int) -> None:
    """The evaluator process: lock down, run the code, report to the supervisor; never returns.

    The first line on ``report`` is the isolation, written before any untrusted code runs, so
    the supervisor can trust it; the last line is the outcome.
    """
    out = os.fdopen(report, "w")
    roots = readable_roots()
    _drop_root()
    _limit(int(job["memory_bytes"]), int(job["cpu_seconds"]), int(job["processes"]))
    try:
        if not job["landlock"]:
            raise OSError("disabled for this run")
        abi, isolation = _landlock(roots), ""
    except OSError as exc:  # e.g. a container whose seccomp profile refuses the syscalls
        abi, isolation = 0, f"landlock unavailable: {exc}"
    if not abi and not job["allow_without_landlock"]:
        out.write(json.dumps({"isolation": "refused"}) + "\n")
        refusal = REFUSED.format(reason=isolation or "landlock ABI 0")
        out.write(json.dumps({"output": None, "traces": [], "error": refusal}) + "\n")
        out.flush()
        os._exit(0)
    label = f"landlock-abi-{abi}" if abi else f"audit-hook only, unsafe ({isolation})"
    out.write(json.dumps({"isolation": label}) + "\n")
    out.flush()
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
    out.write(json.dumps(result) + "\n")
    out.flush()
    os._exit(0)


def _subreaper() -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _wait(pid: int, report: int, timeout: float) -> tuple[bytes, int | None]:
    """What the evaluator reported, and its wait status (None: still running at the deadline).

    Waits on a pidfd, not for the end of ``report``: a process the evaluator started may hold
    the pipe open long after the evaluator is gone.
    """
    deadline = time.monotonic() + timeout
    pidfd = os.pidfd_open(pid)
    data = bytearray()
    status: int | None = None
    try:
        while status is None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            readable, _, _ = select.select([report, pidfd], [], [], left)
            if report in readable:
                chunk = os.read(report, 65536)
                if chunk and len(data) < _MAX_REPORT:
                    data += chunk
            if pidfd in readable:
                status = os.waitpid(pid, 0)[1]
        while select.select([report], [], [], 0)[0] and len(data) < _MAX_REPORT:
            chunk = os.read(report, 65536)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(pidfd)
    return bytes(data), status


def _children(parent: int) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as stat:
                    fields = stat.read().rpartition(b")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                found.append(int(name))
    return found


def kill_tree(grace: float = 5.0) -> None:
    """Kill every process below this one and reap them all.

    As the subreaper, this process inherits every orphan below it, so killing its children
    until it has none left (``ECHILD``) leaves nothing behind, however deep or ``setsid``.
    """
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        for pid in _children(os.getpid()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return
        time.sleep(0.005)


def _outcome(data: bytes) -> tuple[str, dict[str, Any] | None]:
    """The isolation (first line) and the outcome (last line, checked) the evaluator reported."""
    lines = data.splitlines()
    try:
        isolation = str(json.loads(lines[0])["isolation"]) if lines else ""
        outcome = json.loads(lines[-1]) if len(lines) > 1 else None
    except (ValueError, KeyError, TypeError):
        return "", None
    if not isinstance(outcome, dict):
        return isolation, None
    traces = outcome.get("traces")
    return isolation, {
        "output": outcome.get("output") if isinstance(outcome.get("output"), str) else None,
        "traces": [str(t) for t in traces] if isinstance(traces, list) else [],
        "error": str(outcome["error"]) if outcome.get("error") is not None else None,
    }


def main() -> None:
    """Supervise one evaluation: fork the evaluator, wait, kill what is left, report."""
    job = json.loads(sys.stdin.buffer.read())
    result_fd = int(sys.argv[1])
    nonce = job.pop("nonce")
    _subreaper()
    report_r, report_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(report_r)
            os.close(result_fd)
            _evaluate(job, report_w)
        finally:
            os._exit(70)
    os.close(report_w)
    data, status = _wait(pid, report_r, float(job["timeout"]))
    kill_tree()
    isolation, outcome = _outcome(data)
    final = {
        "nonce": nonce,
        "isolation": isolation,
        "outcome": outcome,
        "timed_out": status is None,
        "signal": os.WTERMSIG(status) if status is not None and os.WIFSIGNALED(status) else None,
        "exit": os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status) else None,
    }
    with os.fdopen(result_fd, "w") as out:
        out.write(json.dumps(final) + "\n")


if __name__ == "__main__":
    main()
