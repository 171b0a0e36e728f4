import uuid
from concurrent.futures import ThreadPoolExecutor

from helioscope.ingest import new_request_id


def test_request_ids_are_version_4_uuids_in_canonical_text() -> None:
    for _ in range(600):  # more than one pool of randomness
        text = new_request_id()
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_request_ids_never_repeat_across_threads() -> None:
    with ThreadPoolExecutor(8) as pool:
        batches = list(pool.map(lambda _: [new_request_id() for _ in range(2000)], range(8)))
    ids = [i for batch in batches for i in batch]
    assert len(set(ids)) == len(ids)
