"""Reading a segment: frames cut from large reads come back whole, in order, within the budgets.

And a frame's checksum: zlib's CRC-32 (frames of every version read alike), over its time and
every part.
"""

from __future__ import annotations

import asyncio
import random
import struct
import zlib
from pathlib import Path

import pytest

from helioscope.ingest._health import WriterHealth
from helioscope.ingest._journal import (
    _READ,
    HEADER,
    Journal,
    frame,
    read_frames,
    segment_name,
)
from helioscope.ingest._tail_read import past_bad_frame, read_worker


def _segment(tmp_path: Path, payloads: list[bytes]) -> Path:
    path = tmp_path / "000000000001.journal"
    path.write_bytes(b"".join(frame(p, 1_000 + i) for i, p in enumerate(payloads)))
    return path


def _payloads() -> list[bytes]:
    # Small frames that straddle the reads' boundaries, and frames longer than one read.
    rng = random.Random(7)
    sizes = [rng.randint(0, 3000) for _ in range(400)]
    sizes[50] = _READ * 2 + 5
    sizes[51] = _READ - HEADER.size
    sizes[300] = _READ + 1
    return [bytes([i % 251]) * size for i, size in enumerate(sizes)]


def test_every_frame_comes_back_whole_whatever_the_budgets(tmp_path: Path) -> None:
    payloads = _payloads()
    path = _segment(tmp_path, payloads)
    for max_bytes, max_count in [(1 << 30, 10_000), (10_000, 10_000), (1, 7), (_READ, 3)]:
        got: list[bytes] = []
        times: list[int] = []
        offset = 0
        while True:
            read = read_frames(path, offset, max_bytes=max_bytes, max_count=max_count)
            assert not read.bad
            if not read.payloads:
                break
            # At most max_count frames; past max_bytes only by the frame that crossed it.
            assert len(read.payloads) <= max_count
            assert read.bytes - len(read.payloads[-1]) < max_bytes
            assert read.bytes == sum(map(len, read.payloads))
            got += read.payloads
            times += read.times
            offset = read.offset
        assert got == payloads
        assert times == [1_000 + i for i in range(len(payloads))]
        assert offset == path.stat().st_size


def test_a_torn_or_corrupt_frame_stops_the_read_after_the_good_ones(tmp_path: Path) -> None:
    payloads = _payloads()[:60]
    whole = b"".join(frame(p, 1_000 + i) for i, p in enumerate(payloads))
    path = tmp_path / "000000000001.journal"
    ends = [len(frame(p, 0)) for p in payloads]
    at_59 = sum(ends[:59])
    for cut, reason in [
        (len(whole) - 3, "torn payload"),
        (at_59 + HEADER.size - 1, "torn header"),
    ]:
        path.write_bytes(whole[:cut])
        read = read_frames(path, 0, max_bytes=1 << 30, max_count=10_000)
        assert read.bad, reason
        assert read.payloads == payloads[:59]
        assert read.offset == at_59
    corrupt = bytearray(whole)
    corrupt[sum(ends[:51]) + HEADER.size + 10] ^= 0xFF  # inside frame 51's payload
    path.write_bytes(bytes(corrupt))
    read = read_frames(path, 0, max_bytes=1 << 30, max_count=10_000)
    assert read.bad
    assert read.payloads == payloads[:51]


def test_a_frame_met_half_written_is_read_once_whole_not_skipped_as_corrupt(
    tmp_path: Path,
) -> None:
    """The reader met the open segment's last frame half copied in, as its append ran; by the
    time it looked past it, the append had ended and the next frame followed. The frame is
    read, not skipped as corrupt (a record lost, 1 in 10,000 under load)."""
    payloads = [b"first" * 50, b"second" * 50, b"third" * 50]
    frames = [frame(p, 1_000 + i) for i, p in enumerate(payloads)]
    directory = tmp_path / "0"
    directory.mkdir()
    path = directory / segment_name(1)
    path.write_bytes(frames[0] + frames[1][: HEADER.size + 20])  # as the reader met it
    health = WriterHealth()

    def read(position: tuple[str, int] | None) -> tuple[tuple[str, int], list[bytes]]:
        read = read_worker(
            directory, position, max_count=10, max_bytes=1 << 20, grace_seconds=60, health=health
        )
        return read[0], read[1]

    position, got = read(None)
    assert got == payloads[:1]
    assert position == (path.name, len(frames[0]))  # waiting for the second to complete
    path.write_bytes(b"".join(frames))  # its append ended, and the next one came
    went_on = past_bad_frame(path, len(frames[0]), sealed=False, grace_seconds=60, health=health)
    assert went_on == len(frames[0])
    assert read(position)[1] == payloads[1:]
    assert health.corrupt_frames_skipped == health.torn_frames_skipped == 0
    corrupt = bytearray(b"".join(frames))
    corrupt[len(frames[0]) + HEADER.size + 3] ^= 0xFF  # the second frame, truly corrupt
    path.write_bytes(bytes(corrupt))
    skipped_to = past_bad_frame(path, len(frames[0]), sealed=False, grace_seconds=60, health=health)
    assert skipped_to == len(frames[0]) + len(frames[1])
    assert health.corrupt_frames_skipped == 1


def _zlib_frame(payload: bytes, at_ms: int) -> bytes:
    """A frame as every earlier version wrote it: zlib's CRC-32 over the time, then the payload."""
    crc = zlib.crc32(payload, zlib.crc32(struct.pack("<q", at_ms)))
    return struct.pack("<4sIIq", b"HSJ1", len(payload), crc, at_ms) + payload


async def test_frames_written_with_zlibs_crc32_are_read_and_frames_appended_now_match_it(
    tmp_path: Path,
) -> None:
    # The checksum is computed by ISA-L now; its values must stay zlib's CRC-32, so that the
    # frames journalled before the upgrade are stored after it, and an older version rolled
    # back to reads what this one journalled.
    payloads = [b"", b"x", bytes(range(256)) * 40, _READ * b"y"]
    path = tmp_path / "000000000001.journal"
    path.write_bytes(b"".join(_zlib_frame(p, 5_000 + i) for i, p in enumerate(payloads)))
    read = read_frames(path, 0, max_bytes=1 << 30, max_count=100)
    assert not read.bad
    assert read.payloads == payloads
    assert read.times == [5_000 + i for i in range(len(payloads))]

    parts = [b"head", b"", bytes(range(256)) * 9, b"tail"]
    written = await _appended(tmp_path, parts)
    (at_ms,) = struct.unpack_from("<q", written, 12)
    assert written == _zlib_frame(b"".join(parts), at_ms)


async def _appended(tmp_path: Path, parts: list[bytes]) -> bytes:
    """The segment a fresh journal holds after appending one record of ``parts``."""
    log = Journal(tmp_path, "0", segment_bytes=1 << 20, fsync_ms=0)
    log.open()
    log.append(parts)
    await log.close()
    return (log.directory / segment_name(1)).read_bytes()


async def test_a_frame_whose_time_or_any_part_changed_fails_its_checksum(tmp_path: Path) -> None:
    whole = await _appended(tmp_path, [b"header", b"request body", b"response"])
    path = tmp_path / "000000000002.journal"
    path.write_bytes(whole)
    assert read_frames(path, 0, max_bytes=1 << 20, max_count=10).payloads == [
        b"headerrequest bodyresponse"
    ]
    # The time (bytes 12-19 of the header), then a byte in each part of the payload.
    for at in (12, 19, HEADER.size, HEADER.size + 6, len(whole) - 1):
        corrupt = bytearray(whole)
        corrupt[at] ^= 0x01
        path.write_bytes(bytes(corrupt))
        read = read_frames(path, 0, max_bytes=1 << 20, max_count=10)
        assert read.bad, at
        assert read.payloads == []


async def test_a_sync_scheduled_by_the_last_append_runs_quietly_after_close(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With fsync_ms=0 an append schedules a sync for the loop's next round; a close before it
    runs leaves no descriptor to sync (it once raised ValueError in the loop's callback)."""
    await _appended(tmp_path, [b"header"])
    await asyncio.sleep(0)  # the scheduled sync runs now
    assert not [r for r in caplog.records if r.name == "asyncio"], caplog.text
