"""A store that goes down while ``helioscope serve`` starts: it waits with one line, then serves.

It failed its startup with a long traceback and exit status 3 (``--workers``: the supervisor
restarted the worker, each time with one), or, in the supervisor's own migration, exited with
status 1. A lock on the table a startup step needs, held from the test's own connection, stops
the step at a known statement; the cluster is stopped there, as by a crash (``-m immediate``).
(``tests/test_startup_outage.py`` covers a connection ended while the store stays up.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helioscope.store import Store, keys
from tests.cli.test_store_down import _answers, _serve, _until
from tests.throwaway_postgres import holding, throwaway_postgres, until_waiting

# (serve's arguments, the table whose lock stops startup, workers up before the outage)
CASES = [
    # The app's startup (``Services.running``): its bootstrap, inserting the key.
    ((), "helicone_api_keys", 0),
    # A worker's: worker 0 bootstraps (worker 1 comes up meanwhile).
    (("--workers", "2"), "helicone_api_keys", 1),
    # The supervisor's: it reads the store's revision and migrates before starting workers.
    (("--workers", "2"), "alembic_version", 0),
]


@pytest.mark.parametrize(("args", "table", "up_before"), CASES)
async def test_serve_waits_for_a_store_that_stops_while_it_starts(
    tmp_path: Path, args: tuple[str, ...], table: str, up_before: int
) -> None:
    with throwaway_postgres() as cluster:
        store = Store.open(cluster.url)
        await store.migrate()  # and no organization: the server makes one, and prints its key
        async with holding(cluster.url, table) as held:
            server, proc, stderr = _serve(cluster.url, tmp_path, *args, bootstrap=True)
            try:

                def alive() -> None:
                    assert proc.poll() is None, stderr.read_text()

                await until_waiting(held, alive)

                async def started(count: int) -> bool:
                    alive()
                    return stderr.read_text().count("Application startup complete") == count

                await _until(lambda: started(up_before), 60, stderr.read_text)
                cluster.stop()

                async def waiting() -> bool:
                    alive()
                    return "waiting for it" in stderr.read_text()

                await _until(waiting, 30, stderr.read_text)
                cluster.start()
                await _until(lambda: _answers(server), 60, stderr.read_text)
                await _until(lambda: started(2 if args else 1), 60, stderr.read_text)
            finally:
                server.stop()
        orgs = await store.read(keys.list_orgs)
        await store.close()
    text = stderr.read_text()
    assert "Traceback" not in text and "restarting it" not in text, text
    assert text.count("waiting for it") == 1 and text.count("reachable after") == 1, text
    assert text.count("helioscope: store: ") == 1, text  # (not again at each attempt)
    said = (tmp_path / "stdout").read_text()
    assert said.count("Helioscope created organization 'default'") == 1, said
    assert [org.name for org in orgs] == ["default"]
