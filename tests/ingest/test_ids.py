import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from helioscope.ingest import new_request_id


def test_request_ids_are_version_7_uuids_in_canonical_text() -> None:
    for _ in range(600):  # more than one pool of randomness
        text = new_request_id()
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122


def test_request_ids_start_with_the_time_so_new_rows_append_to_the_key() -> None:
    # Random ids scattered every insert over the log's primary-key B-tree (and the bodies').
    before = time.time_ns() // 1_000_000
    first = new_request_id()
    time.sleep(0.002)
    second = new_request_id()
    after = time.time_ns() // 1_000_000
    stamp = int(first.replace("-", "")[:12], 16)
    assert before <= stamp <= after
    assert first < second  # a later millisecond sorts after, as text and as a key


def test_request_ids_never_repeat_across_threads() -> None:
    with ThreadPoolExecutor(8) as pool:
        batches = list(pool.map(lambda _: [new_request_id() for _ in range(2000)], range(8)))
    ids = [i for batch in batches for i in batch]
    assert len(set(ids)) == len(ids)
