"""``helioscope import helicone`` as a user runs it, against the stand-in for Helicone."""

from __future__ import annotations

from pathlib import Path

from helioscope.store import RequestQuery, Store, keys
from helioscope.store.log import requests
from tests.helicone_import.fake_helicone import KEY, FakeHelicone
from tests.test_cli import run_cli


async def test_import_reports_what_it_did_and_a_rerun_adds_nothing(
    helicone: FakeHelicone,
    tmp_path: Path,
) -> None:
    helicone.throttle_every = 7  # a few 429s, with Retry-After: the test need not wait
    url = f"sqlite:///{tmp_path / 'moved.db'}"
    args = ("import", "helicone", "--base-url", helicone.url, "--org", "acme")
    env = {"HELIOSCOPE_DATABASE_URL": url, "HELICONE_API_KEY": KEY}
    code, _, err = await run_cli(*args, "--checkpoint", str(tmp_path / "cp.json"), env=env)
    assert code == 0, err
    assert "warning: no Helioscope store" in err and "created organization 'acme'" in err
    assert "imported 13 requests (13 bodies from signed URLs" in err
    assert "rate-limited" in err and "skipped: session tags" in err

    code, _, err = await run_cli(*args, "--checkpoint", str(tmp_path / "cp.json"), env=env)
    assert code == 0 and "imported 0 requests" in err

    store = Store.open(url)
    try:
        [org] = await store.read(keys.list_orgs)
        logged = await store.log.org(org.id).read(requests.query_requests, RequestQuery(limit=100))
        assert len(logged) == 13
    finally:
        await store.close()
