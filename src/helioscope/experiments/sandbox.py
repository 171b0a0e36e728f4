"""Python code evaluators, run in a separate, locked-down process per evaluation.

What is guaranteed (see ``_sandbox_child`` for how):

- **Time**: the evaluation is stopped after ``timeout`` seconds of wall-clock time (and the
  kernel stops it after as many seconds of CPU time, ``RLIMIT_CPU``), reported as "time limit
  of N s exceeded". Every process it started is killed with it, including ones that left its
  process group or session (``setsid``): a supervisor process, the *child subreaper* of the
  evaluation, inherits and kills them all, after a timeout and after a normal end alike.
- **Processes**: at most ``processes`` new ones (``RLIMIT_NPROC``, 0 by default; under a root
  server the evaluator runs as a real user of its own without capabilities, so that the limit
  binds and counts its own processes only), so a fork bomb stops at the cap.
- **Memory**: its address space is capped (``RLIMIT_AS``); an allocation past the cap fails
  and is reported as "memory limit of N MB exceeded".
- **No secrets, no database**: it starts with an empty environment (no ``HELIOSCOPE_*``
  settings, no provider keys, no database URL), inherits no file descriptors (so no open
  database connection or SQLite file), runs in an empty temporary directory, and may not write
  files. Landlock (Linux 5.13+, ABI reported in each result as ``isolation``) lets it read
  nothing but the Python standard library, so the database file and everything else on disk
  is out of reach even to ``ctypes`` or native code; ABI 4+ also blocks TCP. **Without
  Landlock, Python evaluators are refused** (the result's error says why) unless the operator
  sets ``HELIOSCOPE_UNSAFE_PYTHON_EVALUATORS=true``: the audit hook that is then the only file
  barrier can be defeated by code written to do so.
- **An honest result**: the result travels on a descriptor of its own, written by the
  supervisor with a secret nonce of this run; what the code prints or writes on stdout is never
  taken for the result.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

_CHILD = Path(__file__).with_name("_sandbox_child.py")
_MAX_OUTPUT = 1 << 20


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """How much one evaluation may use."""

    timeout: float = 5.0
    memory_mb: int = 256
    processes: int = 0  # new processes the code may start (it has no use for any)
    allow_without_landlock: bool = False  # HELIOSCOPE_UNSAFE_PYTHON_EVALUATORS


# Whether the child tries Landlock at all: False only in tests, to see the refusal on a kernel
# that has Landlock.
USE_LANDLOCK = True
# How long past its own time limit the supervisor gets to kill the tree and report.
_BACKSTOP_SECONDS = 5.0


@dataclass(slots=True)
class CodeResult:
    """What a code evaluator produced: its output text and printed lines, or an error."""

    output: str | None = None
    traces: list[str] = field(default_factory=list)
    error: str | None = None
    isolation: str = ""

    @property
    def score(self) -> float | bool:
        """The output as a score: ``true``/``false`` (any case) is a boolean, else a number."""
        if self.error is not None or self.output is None:
            raise ValueError(self.error or "the evaluator produced no output")
        text = self.output.strip()
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        try:
            return float(text)
        except ValueError:
            message = f"evaluator output {text[:100]!r} is neither a boolean nor a number"
            raise ValueError(message) from None


async def run_code(
    code: str,
    *,
    request_body: str,
    response_body: str,
    inputs: dict[str, Any] | None = None,
    limits: SandboxLimits = SandboxLimits(),
) -> CodeResult:
    """Run ``code`` on one request and response; never raises for anything the code does.

    The code sees ``request`` and ``response`` (parsed JSON, or the text), ``request_body`` and
    ``response_body`` (text) and ``inputs``. Its score is what ``evaluate(request, response,
    inputs)`` returns if it defines that function, else the last line it prints.
    """
    nonce = secrets.token_hex(16)
    job = {
        "code": code,
        "request_body": request_body,
        "response_body": response_body,
        "inputs": inputs or {},
        "memory_bytes": limits.memory_mb << 20,
        "cpu_seconds": max(1, int(limits.timeout + 0.999)),
        "timeout": limits.timeout,
        "processes": limits.processes,
        "landlock": USE_LANDLOCK,
        "allow_without_landlock": limits.allow_without_landlock,
        "nonce": nonce,
    }
    result_r, result_w = os.pipe()
    try:
        with tempfile.TemporaryDirectory(prefix="helioscope-eval-") as workdir:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-I",  # isolated: no PYTHON* variables, no user site, no script directory
                "-S",  # no site-packages: only the standard library is importable
                str(_CHILD),
                str(result_w),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,  # the code's; never read as the result
                stderr=asyncio.subprocess.PIPE,
                env={},
                cwd=workdir,
                pass_fds=(result_w,),
                start_new_session=True,  # its own session, killed as a whole on the backstop
            )
            os.close(result_w)
            result_w = -1
            reading = asyncio.create_task(_read_all(result_r))
            try:
                _, stderr = await asyncio.wait_for(
                    process.communicate(orjson.dumps(job)),
                    timeout=limits.timeout + _BACKSTOP_SECONDS,
                )
            except TimeoutError:  # the supervisor itself is stuck: should not happen
                _kill(process)
                await process.wait()
                reading.cancel()
                return CodeResult(error=f"time limit of {limits.timeout:g} s exceeded")
            report = await reading
    finally:
        for fd in (result_r, result_w):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
    return _result(report, nonce, process.returncode, stderr[-2000:], limits)


async def _read_all(fd: int) -> bytes:
    """Everything written on ``fd`` until its writers close it, read off the event loop."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=_MAX_OUTPUT * 2)
    pipe = os.fdopen(os.dup(fd), "rb", buffering=0)
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    try:
        chunks = []
        size = 0
        while chunk := await reader.read(65536):
            if size < _MAX_OUTPUT * 2:
                chunks.append(chunk)
                size += len(chunk)
        return b"".join(chunks)
    finally:
        transport.close()


def _kill(process: asyncio.subprocess.Process) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _result(
    report: bytes, nonce: str, code: int | None, stderr: bytes, limits: SandboxLimits
) -> CodeResult:
    """The result the supervisor wrote, if it carries this run's nonce."""
    final = _final(report, nonce)
    if final is None:
        return _failure(code, stderr, limits)
    isolation = str(final.get("isolation") or "")
    outcome = final.get("outcome")
    if final.get("timed_out") or final.get("signal") in (signal.SIGXCPU, signal.SIGKILL):
        return CodeResult(error=f"time limit of {limits.timeout:g} s exceeded", isolation=isolation)
    if isinstance(outcome, dict):
        return CodeResult(
            output=outcome.get("output"),
            traces=[str(t) for t in outcome.get("traces") or []],
            error=outcome.get("error"),
            isolation=isolation,
        )
    if b"MemoryError" in stderr:
        return CodeResult(
            error=f"memory limit of {limits.memory_mb} MB exceeded", isolation=isolation
        )
    how = f"signal {final['signal']}" if final.get("signal") else f"code {final.get('exit')}"
    text = stderr.decode(errors="replace").strip()[-500:]
    return CodeResult(
        error=f"the evaluator ended ({how}) without a result: {text}".rstrip(": "),
        isolation=isolation,
    )


def _final(report: bytes, nonce: str) -> dict[str, Any] | None:
    lines = report.strip().splitlines()
    if len(lines) != 1:
        return None
    try:
        final = orjson.loads(lines[0])
    except orjson.JSONDecodeError:
        return None
    if not isinstance(final, dict) or not secrets.compare_digest(
        str(final.get("nonce", "")), nonce
    ):
        return None
    return final


def _failure(code: int | None, stderr: bytes, limits: SandboxLimits) -> CodeResult:
    text = stderr.decode(errors="replace")
    if "MemoryError" in text:
        return CodeResult(error=f"memory limit of {limits.memory_mb} MB exceeded")
    return CodeResult(error=f"evaluator process exited with code {code}: {text.strip()[-500:]}")
