"""Creating, renaming or revoking one key forgets that key only, in this worker and in others:
every other cached key keeps working through an outage that follows."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from helioscope.auth import KeyCache
from helioscope.errors import Unauthorized
from helioscope.store import ApiKey, hash_api_key
from helioscope.testing import FakeProvider
from tests.conftest import settings_for
from tests.running import running
from tests.throwaway_postgres import throwaway_postgres

A, B = "sk-helicone-aaaa", "sk-helicone-bbbb"


class Keys:
    """A key store of two live keys, which can be revoked, and can go down."""

    def __init__(self) -> None:
        self.live = {
            hash_api_key(A): ApiKey(1, "org", "a", "rw"),
            hash_api_key(B): ApiKey(2, "org", "b", "rw"),
        }
        self.down = False
        self.lookups = 0

    async def one(self, key_hash: str) -> ApiKey | None:
        self.lookups += 1
        if self.down:
            raise ConnectionRefusedError(111, "Connect call failed")
        return self.live.get(key_hash)

    async def many(self, key_hashes: list[str]) -> dict[str, ApiKey]:
        if self.down:
            raise ConnectionRefusedError(111, "Connect call failed")
        return {h: self.live[h] for h in key_hashes if h in self.live}


async def test_revoking_a_key_here_keeps_the_others_through_an_outage() -> None:
    store = Keys()
    cache = KeyCache(store.one, lookup_many=store.many)
    changes: list[None] = []
    cache.on_change = lambda: changes.append(None)
    assert (await cache.resolve(A)).name == "a" and (await cache.resolve(B)).name == "b"
    del store.live[hash_api_key(A)]
    cache.invalidate(hash_api_key(A), revoked=True)
    assert changes == [None]  # the other workers are told
    store.down = True
    assert (await cache.resolve(B)).name == "b"
    with pytest.raises(Unauthorized):  # refused as revoked, not "the key store is unavailable"
        await cache.resolve(A)
    assert cache.known(B) is not None and cache.known(A) is None


async def test_a_change_in_another_worker_rechecks_without_emptying_the_cache() -> None:
    store = Keys()
    cache = KeyCache(store.one, lookup_many=store.many)
    await cache.resolve(A)
    await cache.resolve(B)
    del store.live[hash_api_key(A)]  # revoked through another worker, which bumps the feed
    cache.forget()
    assert (await cache.resolve(B)).name == "b"  # waits for the re-check, then answers
    store.down = True
    assert (await cache.resolve(B)).name == "b"
    with pytest.raises(Unauthorized):
        await cache.resolve(A)


async def test_a_recheck_the_store_cannot_answer_keeps_the_cached_keys() -> None:
    store = Keys()
    cache = KeyCache(store.one, lookup_many=store.many)
    await cache.resolve(A)
    store.down = True
    cache.forget()
    assert (await cache.resolve(A)).name == "a"
    assert cache.outage.since is not None  # the outage is noticed (and logged once)


async def test_renaming_a_key_relearns_that_key_only() -> None:
    store = Keys()
    cache = KeyCache(store.one, lookup_many=store.many)
    await cache.resolve(A)
    await cache.resolve(B)
    lookups = store.lookups
    store.live[hash_api_key(A)] = ApiKey(1, "org", "renamed", "rw")
    cache.invalidate(hash_api_key(A))
    assert (await cache.resolve(A)).name == "renamed"
    assert (await cache.resolve(B)).name == "b"
    assert store.lookups == lookups + 1  # B came from the cache


async def test_revoked_through_the_api_then_an_outage(fake: FakeProvider, tmp_path: Path) -> None:
    # The trial's finding: a key created or revoked just before an outage made every key 503.
    with throwaway_postgres() as cluster:
        settings = settings_for(cluster.url, fake, tmp_path)
        async with running(settings) as hs:
            created = await hs.client.post(
                "/v1/api-keys", json={"api_key_name": "doomed"}, headers=hs.auth()
            )
            assert created.status_code == 200, created.text
            doomed = created.json()["apiKey"]

            async def call(key: str) -> int:
                answer = await hs.client.post(
                    "/oai/v1/chat/completions",
                    json={"model": "gpt-4o-mini", "messages": []},
                    headers={"helicone-auth": f"Bearer {key}", "authorization": "Bearer sk-x"},
                )
                return answer.status_code

            assert await call(hs.key) == 200 and await call(doomed) == 200
            revoked = await hs.client.delete(
                f"/v1/api-keys/{created.json()['id']}", headers=hs.auth()
            )
            assert revoked.status_code == 200, revoked.text
            cluster.stop()
            try:
                assert await call(hs.key) == 200  # still cached
                assert await call(doomed) == 401
            finally:
                cluster.start()
            await asyncio.wait_for(hs.flush(), timeout=30)


async def test_revoked_through_another_worker_then_an_outage(
    fake: FakeProvider, tmp_path: Path
) -> None:
    # Worker B hears of the change through the change feed and re-checks its cached keys.
    with throwaway_postgres() as cluster:
        a_settings = settings_for(cluster.url, fake, tmp_path / "a")
        b_settings = settings_for(cluster.url, fake, tmp_path / "b").model_copy(
            update={"worker_id": "1", "log_writer": False}
        )
        async with running(a_settings) as a, running(b_settings) as b:
            doomed, kept = (await b.add_org("other"))[1], b.key
            for key in (doomed, kept):
                assert (await b.services.keys.resolve(key)).organization_id
            found = await a.services.keys.resolve(doomed)
            revoked = await a.client.delete(
                f"/v1/api-keys/{found.id}", headers=a.auth((await a.add_org("other"))[1])
            )
            assert revoked.status_code == 200, revoked.text
            deadline = asyncio.get_running_loop().time() + 10
            while b.services.keys.known(doomed) is not None:  # the feed's poll: ~0.5 s
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.1)
            await b.services.keys.resolve(kept)  # (after the re-check)
            cluster.stop()
            try:
                assert (await b.services.keys.resolve(kept)).organization_id == b.org_id
                with pytest.raises(Unauthorized):
                    await b.services.keys.resolve(doomed)
            finally:
                cluster.start()
