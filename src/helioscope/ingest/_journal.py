"""The log journal: append-only segment files of checksummed frames, one directory per worker.

Every log record is appended here before anything else happens to it. A frame is
``magic | payload length | CRC32 | append time (ms) | payload``; the CRC covers the time and the
payload. Appends are one plain ``write()`` each: the page cache keeps them across a crash of
the process, and ``fsync`` runs on a timer (``fsync_ms``; 0 syncs once per event-loop tick),
off the event loop, so a proxied call never waits for the disk.

Layout: ``<root>/<worker>/<sequence>.journal``. A worker starts a new segment each time it
starts and every ``segment_bytes``; a segment with a newer one beside it is *sealed* (nobody
appends to it any more), so a bad tail there is a torn frame, not a frame still being written.

Locks: see ``_journal_locks``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from isal import isal_zlib

from helioscope.ingest._journal_locks import WORKER_LOCK, WRITER_LOCK, JournalInUse, hold

_MIB = 1 << 20

MAGIC = b"HSJ1"
HEADER = struct.Struct("<4sIIq")  # magic, payload length, crc32, append time in ms
_TIME = struct.Struct("<q")
SUFFIX = ".journal"
_SCAN_CHUNK = 1 << 20
_READ = 1 << 18
# Buffers one writev() takes (Linux: 1024); a frame in more parts is joined first.
_IOV_MAX = os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 16
_PROBE_BYTES = 64 * 1024  # (a record with bodies of some size)
# zlib's CRC-32 (the same values: frames are read and written as before, by either version),
# computed by ISA-L with carry-less multiplies: ~0.4 instructions a byte against Debian zlib
# 1.2.13's ~3.9 (callgrind: ~970 against ~5,200 a call on 1.2 KB). It runs twice a record, on
# append and on read: ~1.3% of a proxied call's instructions with zlib's.
_crc32 = isal_zlib.crc32


def frame(payload: bytes, at_ms: int) -> bytes:
    """One frame around ``payload``."""
    crc = _crc32(payload, _crc32(_TIME.pack(at_ms)))
    return HEADER.pack(MAGIC, len(payload), crc, at_ms) + payload


def segment_name(sequence: int) -> str:
    """The file name of a worker's ``sequence``-th segment (names sort in order)."""
    return f"{sequence:012d}{SUFFIX}"


def segments(directory: Path) -> list[str]:
    """A worker's segment file names, oldest first."""
    try:
        names = [e.name for e in os.scandir(directory) if e.name.endswith(SUFFIX)]
    except FileNotFoundError:
        return []
    return sorted(names)


def workers(root: Path) -> list[str]:
    """The workers that have a journal under ``root``."""
    try:
        return sorted(e.name for e in os.scandir(root) if e.is_dir())
    except FileNotFoundError:
        return []


def segment_size(segment_bytes: int, max_bytes: int) -> int:
    """The segment size for a journal bounded by ``max_bytes``: at most an eighth of it.

    A segment is deleted once stored and sealed: records stored in the open one still take
    their room, so a segment as large as the bound (64 MiB against a bound set small) filled it
    with stored records, and every body was dropped with nothing waiting. (At least 64 KiB:
    not a file a record.)
    """
    return min(segment_bytes, max(max_bytes // 8, 64 * 1024))


def reserve_bytes(filesystem_bytes: int) -> int:
    """Free space the journal leaves on its filesystem before it stops journalling bodies.

    Past it records keep being journalled without their bodies, ~1 KB each: 64 MiB holds some
    60,000 of them (40 s at 1,500 calls/s) for a small disk; 1% gives a larger one room in
    proportion for what else shares it (the SQLite file and its WAL, logs); capped at 1 GiB
    (a million records) so that a 10 TB volume does not refuse bodies with 100 GB free.
    """
    return min(max(64 * _MIB, filesystem_bytes // 100), 1024 * _MIB)


def spare_bytes(root: Path) -> int:
    """Free bytes on ``root``'s filesystem beyond the reserve (negative: into it)."""
    try:
        fs = os.statvfs(root)
    except OSError:  # (the writer makes the root when it starts: not expected) keep bodies
        return 1 << 62
    return fs.f_bavail * fs.f_frsize - reserve_bytes(fs.f_blocks * fs.f_frsize)


def disk_bytes(root: Path) -> tuple[int, int]:
    """Bytes and segment files under ``root`` (every worker's journal)."""
    total = count = 0
    for worker in workers(root):
        for name in segments(root / worker):
            try:
                total += (root / worker / name).stat().st_size
                count += 1
            except FileNotFoundError:
                continue  # stored and deleted meanwhile
    return total, count


def journal_id(root: Path) -> str:
    """The journal directory's id (made on first use): positions in the store are keyed by it."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "journal-id"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    new = uuid.uuid4().hex
    temporary = root / f"journal-id.{os.getpid()}"
    temporary.write_text(new)
    try:
        os.link(temporary, path)  # atomic: of workers starting together, one id wins
    except FileExistsError:
        pass
    temporary.unlink()
    return path.read_text().strip()


class Journal:
    """One worker's journal, for appending (one process at a time: see ``hold``).

    With ``drains``, its process also runs the log writer, which drains the whole root.
    """

    def __init__(
        self, root: Path, worker: str, *, segment_bytes: int, fsync_ms: int, drains: bool = False
    ) -> None:
        self.root = root
        self.drains = drains
        self.directory = root / worker
        self.worker = worker
        self.segment_bytes = segment_bytes
        self.fsync_ms = fsync_ms
        self._fd = -1
        self._locks: list[int] = []
        self._sequence = 0
        self._size = 0
        self._dirty = False
        self._sync_scheduled = False
        self._retired: list[int] = []  # rotated-out descriptors, synced and closed by the timer
        self._task: asyncio.Task[None] | None = None

    def open(self) -> None:
        """Lock the directory, start a new segment after any left by earlier runs, and the timer.

        Raises ``JournalInUse`` when another process appends to this directory (or, with
        ``drains``, drains the root), before anything is written or read.
        """
        paths = [self.root / WRITER_LOCK] if self.drains else []
        try:
            for path in [*paths, self.directory / WORKER_LOCK]:
                self._locks.append(hold(path, self.root))
        except JournalInUse:
            self._unlock()
            raise
        existing = segments(self.directory)
        self._sequence = int(existing[-1].removesuffix(SUFFIX)) if existing else 0
        self._new_segment()
        if self.fsync_ms > 0:
            self._task = asyncio.create_task(self._sync_timer(), name="helioscope-journal-fsync")

    def _new_segment(self) -> None:
        path = self.directory / segment_name(self._sequence + 1)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._sequence += 1  # (once open: a failed open leaves the current segment as it was)
        self._size = 0

    def append(self, parts: Sequence[bytes]) -> int:
        """Append one record, given as the parts of its payload; its frame's size in bytes.

        One ``writev()``: the header and the parts go out as they are, never joined into one
        buffer (a 200 KB body would otherwise be copied twice per call, each copy a fresh
        ``mmap`` past glibc's threshold); never a wait for the disk.
        """
        at_ms = time.time_ns() // 1_000_000
        crc = _crc32(_TIME.pack(at_ms))
        for part in parts:
            crc = _crc32(part, crc)
        length = sum(map(len, parts))  # (in C: no Python step a part)
        buffers = [HEADER.pack(MAGIC, length, crc, at_ms), *parts]
        if len(buffers) > _IOV_MAX:  # a stream of many chunks
            buffers = [buffers[0], b"".join(parts)]
        size = HEADER.size + length
        try:
            written = os.writev(self._fd, buffers)
            if written < size:  # a short write (a signal, a full disk): finish the frame
                rest = b"".join(buffers)[written:]
                while rest:
                    rest = rest[os.write(self._fd, rest) :]
        except OSError:
            self._cut_back()
            raise
        self._size += size
        self._dirty = True
        if self.fsync_ms == 0 and not self._sync_scheduled:
            self._sync_scheduled = True
            asyncio.get_running_loop().call_soon(self._sync_now)
        if self._size >= self.segment_bytes:
            self._rotate()
        return size

    def seal(self) -> None:
        """Go on in a new segment, if this one holds anything (for a disk short of room).

        The writer deletes a segment once it has stored it and it is sealed: a 64 MiB segment
        would otherwise keep the room of records stored long ago until it filled.
        """
        if self._size:
            self._rotate()

    def _rotate(self) -> None:
        old = self._fd
        try:
            self._new_segment()
        except OSError:  # (a full disk) the record is journalled: the next append rotates
            return
        self._retired.append(old)
        if self.fsync_ms == 0:
            self._sync_now()

    def _cut_back(self) -> None:
        """After a failed append, end the segment where the last whole frame ends.

        Part of the frame may have reached the file (a write cut short by a full disk): left
        there, the next append would follow garbage, and the reader would take it for a crash's
        torn frame. When it cannot be cut (rare: truncating frees space), the segment is sealed
        (its bad tail is then skipped as torn) and appends go on in a new one.
        """
        try:
            os.ftruncate(self._fd, self._size)
        except OSError:
            with contextlib.suppress(OSError):
                self._size = os.fstat(self._fd).st_size  # (so that ``end`` stays true)
            self._rotate()

    def writable(self) -> bool:
        """Whether this journal's directory takes a write of a record's size now (a probe).

        Asked by readiness while appends fail: it answers 503 then, so a balancer sends no call
        whose append could tell that the disk has room again.
        """
        path = self.directory / "probe"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                return os.write(fd, bytes(_PROBE_BYTES)) == _PROBE_BYTES
            finally:
                os.close(fd)
                path.unlink()
        except OSError:
            return False

    def end(self) -> tuple[str, int]:
        """Where the next record will go: (segment name, offset)."""
        return segment_name(self._sequence), self._size

    def _sync_now(self) -> None:
        self._sync_scheduled = False
        self._dirty = False
        for fd in self._retired:
            _fsync(fd)
            os.close(fd)
        self._retired.clear()
        if self._fd >= 0:  # (a sync scheduled by the last append may run after close)
            _fsync(self._fd)

    async def _sync_timer(self) -> None:
        while True:
            await asyncio.sleep(self.fsync_ms / 1000)
            retired, self._retired = self._retired, []
            for fd in retired:
                await asyncio.to_thread(_fsync, fd)
                os.close(fd)
            if self._dirty:
                self._dirty = False
                await asyncio.to_thread(_fsync, self._fd)

    async def close(self) -> None:
        """Stop the timer, sync and close everything."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._fd >= 0:
            self._sync_now()
            os.close(self._fd)
            self._fd = -1
        self._unlock()  # (after the last write: the next process may append at once)

    def _unlock(self) -> None:
        for fd in self._locks:
            os.close(fd)
        self._locks.clear()


def _fsync(fd: int) -> None:
    # A failed sync (a full or failing disk) must not stop the timer: the data stays in the
    # page cache, which a crash of the process does not lose, and the next sync tries again.
    try:
        os.fsync(fd)
    except OSError:
        pass


@dataclass(slots=True)
class Read:
    """Frames read from one segment, where reading stopped, and why it stopped early."""

    payloads: list[bytes] = field(default_factory=list)
    times: list[int] = field(default_factory=list)
    offset: int = 0
    bytes: int = 0
    bad: bool = False  # stopped at a frame that is incomplete or fails its checksum


def read_frames(path: Path, offset: int, *, max_bytes: int, max_count: int) -> Read:
    """Frames from ``offset`` on, streamed, until either budget is spent (at least one frame)."""
    out = Read(offset=offset)
    payloads, times = out.payloads, out.times
    spent = 0
    # Frames are cut from reads of _READ bytes (a frame longer than that is read whole): a
    # buffered read for each header and each payload cost ~0.3 us a frame more.
    with path.open("rb", buffering=0) as fh:
        fh.seek(offset)
        data, at = b"", 0
        while len(payloads) < max_count and (spent < max_bytes or not payloads):
            if len(data) - at < HEADER.size:
                data, at = data[at:] + fh.read(_READ), 0
                if len(data) < HEADER.size:  # the end of the file, or a header cut short
                    out.bad = bool(data)
                    break
            magic, length, crc, at_ms = HEADER.unpack_from(data, at)
            if magic != MAGIC:
                out.bad = True
                break
            end = at + HEADER.size + length
            if end > len(data):
                data = data[at:] + fh.read(max(end - len(data), _READ))
                at, end = 0, HEADER.size + length
            payload = data[at + HEADER.size : end]
            if len(payload) < length or _crc32(payload, _crc32(_TIME.pack(at_ms))) != crc:
                out.bad = True
                break
            payloads.append(payload)
            times.append(at_ms)
            offset += HEADER.size + length
            spent += length
            at = end
    out.offset, out.bytes = offset, spent
    return out


def next_good_frame(path: Path, offset: int) -> int | None:
    """The offset of the first intact frame after ``offset`` (past a corrupt one), or None."""
    with path.open("rb") as fh:
        start = offset + 1
        while True:
            fh.seek(start)
            chunk = fh.read(_SCAN_CHUNK + HEADER.size)
            if len(chunk) < HEADER.size:
                return None
            found = chunk.find(MAGIC)
            while found != -1 and found <= _SCAN_CHUNK:
                candidate = start + found
                if intact_at(path, candidate):
                    return candidate
                found = chunk.find(MAGIC, found + 1)
            start += _SCAN_CHUNK


def intact_at(path: Path, offset: int) -> bool:
    """Whether a whole frame, its checksum right, starts at ``offset``."""
    read = read_frames(path, offset, max_bytes=1, max_count=1)
    return bool(read.payloads)


def scan(path: Path, offset: int) -> tuple[int, int | None]:
    """Frames from ``offset`` to the end (headers only) and the first one's append time (ms)."""
    count, first = 0, None
    size = path.stat().st_size
    with path.open("rb") as fh:
        while offset + HEADER.size <= size:
            fh.seek(offset)
            magic, length, _, at_ms = HEADER.unpack(fh.read(HEADER.size))
            if magic != MAGIC:
                break
            count += 1
            first = at_ms if first is None else first
            offset += HEADER.size + length
    return count, first


def backlog(
    root: Path, position_of: Callable[[str], tuple[str, int] | None]
) -> tuple[int, int | None]:
    """Records past each worker's position under ``root``, and the oldest one's time (ms).

    ``position_of(worker)`` is where that worker's journal is stored up to (None: nothing yet).
    """
    total, oldest = 0, None
    for worker in workers(root):
        segment, offset = position_of(worker) or ("", 0)
        for name in segments(root / worker):
            if name < segment:
                continue
            try:
                count, first = scan(root / worker / name, offset if name == segment else 0)
            except FileNotFoundError:
                continue
            total += count
            if first is not None and (oldest is None or first < oldest):
                oldest = first
    return total, oldest
