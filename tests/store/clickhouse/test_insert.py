"""Batched inserts: one part per batch, a replay leaves one row per key, edits win."""

from __future__ import annotations

import datetime as dt

import pytest

from helioscope.errors import NotFound
from helioscope.store import LogRow
from helioscope.store.clickhouse import ClickHouse, ClickHouseLog, insert_log_rows
from helioscope.store.clickhouse import _edits as edits
from helioscope.store.log import requests
from tests.store.test_filters import NOW, row


async def _rows(clickhouse: ClickHouse) -> list[tuple[object, ...]]:
    found = await clickhouse.query(
        "SELECT request_id, model FROM request_response FINAL ORDER BY request_id"
    )
    return [tuple(r) for r in found.rows]


async def test_a_batch_is_one_insert(clickhouse: ClickHouse) -> None:
    rows = [row(f"r{i:05d}", "org", request_created_at=NOW) for i in range(20_000)]
    await insert_log_rows(clickhouse, rows)
    parts = await clickhouse.query(
        "SELECT count(), sum(rows) FROM system.parts WHERE database = currentDatabase() "
        "AND table = 'request_response' AND active"
    )
    assert parts.rows == [(1, 20_000)]


async def test_a_replayed_batch_leaves_one_row_per_key(clickhouse: ClickHouse) -> None:
    batch = [row("a", "org"), row("b", "org"), row("a", "org2")]
    await insert_log_rows(clickhouse, batch)
    await insert_log_rows(clickhouse, batch)
    assert await _rows(clickhouse) == [
        ("a", "gpt-4o-mini"),
        ("a", "gpt-4o-mini"),
        ("b", "gpt-4o-mini"),
    ]
    # The newest write of a key wins, within a batch and across batches.
    await insert_log_rows(
        clickhouse, [row("b", "org", model="first"), row("b", "org", model="second")]
    )
    await insert_log_rows(clickhouse, [row("a", "org", model="later")])
    found = await _rows(clickhouse)
    assert ("b", "second") in found and ("a", "later") in found and len(found) == 3


async def test_rows_read_back_as_written(clickhouse: ClickHouse) -> None:
    written = row(
        "full",
        "org",
        user_id="a\x00b",
        properties={"Helicone-Session-Id": "s1", "k\x00": "v"},
        scores={"quality": 7},
        prompt_inputs={"city": "Lisbon", "n": 2},
        request_body='{"x": "\x00"}',
        threat=True,
        response_created_at=NOW + dt.timedelta(microseconds=1),
    )
    await insert_log_rows(clickhouse, [written])
    stored = await ClickHouseLog(clickhouse).org("org").read(requests.get_request, "full")
    assert stored is not None
    assert stored["user_id"] == "a\ufffdb"  # NUL cleaned, as SQLite/PostgreSQL store it
    assert stored["properties"] == {"Helicone-Session-Id": "s1", "k\ufffd": "v"}
    assert (stored["session_id"], stored["session_name"]) == ("s1", "")
    assert stored["scores"] == {"quality": 7.0}
    assert stored["prompt_inputs"] == {"city": "Lisbon", "n": 2}
    assert stored["request_body"] == '{"x": "\ufffd"}'
    assert stored["threat"] is True
    assert stored["response_created_at"] == NOW + dt.timedelta(microseconds=1)


async def test_edits_of_a_missing_request_are_not_found(clickhouse: ClickHouse) -> None:
    with pytest.raises(NotFound):
        await edits.set_property(clickhouse, "org", "nope", "k", "v")
    with pytest.raises(NotFound):
        await edits.set_feedback(clickhouse, "org", "nope", True)
    with pytest.raises(NotFound):
        await edits.set_session_tag(clickhouse, "org", "no-session", "t")


async def test_session_totals_survive_replays_and_moves(clickhouse: ClickHouse) -> None:
    async def summary() -> list[tuple[object, ...]]:
        found = await clickhouse.query(
            "SELECT session_id, session_name, total_requests, total_cost "
            "FROM session_summary FINAL ORDER BY session_id, session_name"
        )
        return [tuple(r) for r in found.rows]

    def in_session(request_id: str, session: str, cost: int) -> LogRow:
        return row(request_id, "org", cost=cost, properties={"Helicone-Session-Id": session})

    batch = [in_session("a", "s1", 10), in_session("b", "s1", 5), in_session("c", "s2", 1)]
    await insert_log_rows(clickhouse, batch)
    await insert_log_rows(clickhouse, batch)  # a replay counts nothing twice
    assert await summary() == [("s1", "", 2, 15), ("s2", "", 1, 1)]
    await edits.set_property(clickhouse, "org", "c", "Helicone-Session-Id", "s1")
    assert await summary() == [("s1", "", 3, 16)]  # s2 lost its only request
    await edits.set_property(clickhouse, "org", "a", "Helicone-Session-Name", "named")
    assert await summary() == [("s1", "", 2, 6), ("s1", "named", 1, 10)]


async def test_ids_of_any_text_are_found_again_on_a_replay(clickhouse: ClickHouse) -> None:
    """The replaced-row check and the session queries bind ids as one JSON text: any id."""
    odd = ["it's", 'say "hi"', "back\\slash", "new\nline\ttab", "ação 🙂", "[1, 2]", "a,b"]
    batch = [row(rid, "org", cost=1, properties={"Helicone-Session-Id": f"s {rid}"}) for rid in odd]
    await insert_log_rows(clickhouse, batch)
    await insert_log_rows(clickhouse, batch)  # every row replaced, none counted twice
    assert sorted(str(r[0]) for r in await _rows(clickhouse)) == sorted(odd)
    sessions = await clickhouse.query(
        "SELECT session_id, total_requests FROM session_summary FINAL ORDER BY session_id"
    )
    assert [tuple(r) for r in sessions.rows] == sorted((f"s {rid}", 1) for rid in odd)
    hourly = await clickhouse.query("SELECT sum(requests) FROM request_hour")
    assert hourly.rows[0][0] == len(odd)


async def test_journal_positions_are_committed_after_the_rows(clickhouse: ClickHouse) -> None:
    committed: list[tuple[object, int]] = []

    async def commit(positions: object) -> None:
        # The rows are in ClickHouse when their positions are committed elsewhere.
        committed.append((positions, len(await _rows(clickhouse))))

    log = ClickHouseLog(clickhouse, commit_positions=commit)
    await log.write_batch([row("a", "org"), row("b", "org")], positions={"worker-1": (3, 4096)})
    assert committed == [({"worker-1": (3, 4096)}, 2)]
    await log.write_batch([row("c", "org")])  # no journal: nothing to commit
    assert len(committed) == 1

    with pytest.raises(RuntimeError, match="nowhere to commit"):
        await ClickHouseLog(clickhouse).write_batch([row("e", "org")], positions={"w": (1, 1)})

    # A batch ClickHouse cannot take commits no position: the journal keeps and replays it.
    await clickhouse.command("DROP TABLE request_response")
    with pytest.raises(ConnectionError):
        await log.write_batch([row("d", "org")], positions={"worker-1": (3, 8192)})
    assert len(committed) == 1


async def test_integral_scores_read_back_as_integers(clickhouse: ClickHouse) -> None:
    log = ClickHouseLog(clickhouse)
    await log.write_batch([row("a", "org", scores={"quality": 5, "accuracy": 0.5})])
    found = await log.org("org").read(requests.get_request, "a")
    assert found is not None
    # As SQL's JSON keeps them (and the API prints them): 5, not 5.0.
    assert repr(found["scores"]) == repr({"quality": 5, "accuracy": 0.5})
