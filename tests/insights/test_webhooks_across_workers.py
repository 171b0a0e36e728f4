"""Webhooks changed through one gateway worker reach the worker whose log writer sends them,
within a second, through the store's change counter (``_changes.py``), not after the
dispatcher's cache expires.

"Another worker" is what one does to the shared store: the webhook written there directly (this
process's dispatcher not told) and the change counter moved.
"""

from __future__ import annotations

import asyncio
import time

from helioscope.store import changes, notifications
from tests.conftest import Running
from tests.insights.receiver import receiving
from tests.insights.seed import call
from tests.insights.test_webhooks import add_webhook, chat, settle


async def test_a_webhook_added_through_another_worker_is_used_within_a_second(
    helioscope: Running,
) -> None:
    store = helioscope.services.store
    async with receiving() as receiver:
        await chat(helioscope)
        await settle(helioscope)  # the dispatcher has read the webhooks: none
        hook = await store.org(helioscope.org_id).write(
            notifications.create_webhook, receiver.url, {}
        )
        receiver.secret = hook["hmac_key"]
        await store.write(changes.bump)  # what the other worker's invalidate() does
        await asyncio.sleep(1.0)
        request_id = await chat(helioscope)
        await settle(helioscope)
        [body] = await receiver.wait_for(1, within=1.0)
    assert body["request_id"] == request_id and receiver.bad_signatures == 0


async def test_adding_or_deleting_a_webhook_tells_the_other_workers(helioscope: Running) -> None:
    store, feed = helioscope.services.store, helioscope.services.changes
    before = await store.read(changes.current)
    async with receiving() as receiver:
        webhook_id = await add_webhook(helioscope, receiver)
    await feed.settle()
    added = await store.read(changes.current)
    assert added > before
    assert (await call(helioscope, "DELETE", f"/v1/webhooks/{webhook_id}")).status_code == 200
    await feed.settle()
    assert await store.read(changes.current) > added


async def test_online_evaluators_follow_the_change_feed(helioscope: Running) -> None:
    store, feed = helioscope.services.store, helioscope.services.changes
    online = helioscope.services.started.experiments.online
    await online._configs_of(helioscope.org_id)  # cached, as after a stored batch
    assert helioscope.org_id in online._configs
    await store.write(changes.bump)  # another worker changed an evaluator
    deadline = time.monotonic() + 1.0  # forgotten within a second
    while helioscope.org_id in online._configs:
        assert time.monotonic() < deadline, "the cached configs outlived the change"
        await asyncio.sleep(0.05)
    before = await store.read(changes.current)
    online.forget(helioscope.org_id)  # this worker changed one: the others are told
    await feed.settle()
    assert await store.read(changes.current) > before
