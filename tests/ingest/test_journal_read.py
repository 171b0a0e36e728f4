"""Reading a segment: frames cut from large reads come back whole, in order, within the budgets."""

from __future__ import annotations

import random
from pathlib import Path

from helioscope.ingest._journal import _READ, HEADER, frame, read_frames


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
