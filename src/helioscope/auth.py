"""Helicone keys: parsed from headers, resolved through an in-memory cache over the store.

A known key costs no database round trip. An unknown key is looked up once (so a key created by
``helioscope keys create`` in another process works at once) and a miss is remembered briefly,
so a client hammering with a bad key does not hammer the store. Known keys are re-checked in the
background after ``ttl`` seconds, so a revoked key stops working without slowing any call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from helioscope._outage import Outage
from helioscope.errors import Forbidden, ServiceUnavailable, Unauthorized
from helioscope.store import ApiKey, hash_api_key

_NEGATIVE_TTL_SECONDS = 1.0

# Key scopes, as Helicone stores them in key_permissions: "r" may read the API; "w" may proxy,
# log and change the API's state, but not read it; "rw" may do all of that and manage keys,
# webhooks and alerts. Which operation needs which is declared in helioscope.api's table.
READ = "r"
WRITE = "w"
ALL = "rw"
# What each scope allows, to say in a 403 what the operation needed.
_SCOPES = {
    READ: "the read scope ('r' or 'rw' keys): it reads the API",
    WRITE: "the write scope ('w' or 'rw' keys): it proxies, logs or changes something",
    ALL: "every scope (an 'rw' key): it manages keys, webhooks or alerts",
}

Lookup = Callable[[str], Awaitable[ApiKey | None]]
# Many keys by hash at once: the live ones (a hash missing from the answer is revoked).
LookupMany = Callable[[list[str]], Awaitable[dict[str, ApiKey]]]
_BOUND = 10_000  # entries in each per-key map: a flood of distinct keys cannot grow them


def _bearer(value: str) -> str:
    value = value.strip()
    if value[:7].lower() == "bearer ":
        return value[7:].strip()
    return value


def split_authorization(
    helicone_auth: str | None, authorization: str | None
) -> tuple[str | None, str | None]:
    """Return ``(helicone key, Authorization to forward)``.

    ``Helicone-Auth: Bearer <key>`` is the usual form. Without it Helicone also accepts its key
    inside ``Authorization``, alone or next to the provider key as ``Bearer a, Bearer b``; the
    Helicone key is then taken out of what is forwarded.
    """
    if helicone_auth:
        return _bearer(helicone_auth) or None, authorization
    if not authorization:
        return None, authorization
    parts = [p.strip() for p in authorization.split(",")]
    for index, part in enumerate(parts):
        token = _bearer(part)
        if token.startswith(("sk-helicone-", "pk-helicone-")):
            rest = parts[:index] + parts[index + 1 :]
            return token, ", ".join(rest) or None
    return None, authorization


def api_key_text(helicone_auth: str | None, authorization: str | None) -> str | None:
    """The Helicone key of an API call: ``Helicone-Auth``, else ``Authorization: Bearer``."""
    key, _ = split_authorization(helicone_auth, None)
    if key is None and authorization:
        key = _bearer(authorization) or None
    return key


class KeyCache:
    """Maps key hashes to keys, backed by the store."""

    def __init__(
        self,
        lookup: Lookup,
        *,
        lookup_many: LookupMany | None = None,
        ttl: float = 30.0,
        outage: Outage | None = None,
    ) -> None:
        self._lookup = lookup
        self._lookup_many = lookup_many or self._one_by_one
        self.outage = outage or Outage()
        self.on_change: Callable[[], None] | None = None  # tells the other workers
        self._ttl = ttl
        self._known: dict[str, tuple[ApiKey, float]] = {}
        self._by_key: dict[str, tuple[ApiKey, float]] = {}
        self._missing: dict[str, float] = {}
        # Revoked here or found revoked by a re-check: refused at once, even while the store is
        # down (a key, once revoked, never comes back).
        self._revoked: set[str] = set()
        self._refreshing: set[str] = set()
        self._rechecking: asyncio.Task[None] | None = None
        self._recheck_again = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def resolve(self, key: str | None, need: str | None = None) -> ApiKey:
        """The API key for a clear key, or ``Unauthorized``.

        ``need`` is the scope the operation requires (``READ``, ``WRITE`` or ``ALL``): a key
        without it is ``Forbidden``. The check is in memory, so the hot path stays free of
        database round trips.
        """
        found = await self._resolve(key)
        # Permissions are "rw", "r" or "w", so a substring test answers "has every letter".
        if need is not None and need not in found.permissions:
            raise Forbidden(
                f"this API key's scope is {found.permissions!r}, and this needs "
                f"{_SCOPES.get(need, repr(need))}"
            )
        return found

    def known(self, key: str | None, need: str | None = None) -> ApiKey | None:
        """The API key for a clear key seen lately and holding ``need``; else None.

        The hot path, with no coroutine: None sends the caller to ``resolve``, which looks the
        key up, re-checks it, or says why it is refused.
        """
        known = self._by_key.get(key) if key else None
        if known is None or time.monotonic() - known[1] > self._ttl:
            return None
        found = known[0]
        return found if need is None or need in found.permissions else None

    async def _resolve(self, key: str | None) -> ApiKey:
        if not key:
            raise Unauthorized(
                "Helicone authorization is missing: send the header "
                "'Helicone-Auth: Bearer <your Helioscope API key>'"
            )
        known = self._by_key.get(key)  # the hot path: no hashing for a key seen before
        now = time.monotonic()
        if known is not None and now - known[1] <= self._ttl:
            return known[0]
        if self._rechecking is not None and not self._rechecking.done():
            # Another worker changed a key: wait for the re-check, so that a key it revoked is
            # refused as soon as the store says so (it is bounded by the store's timeouts).
            await asyncio.shield(self._rechecking)
        key_hash = hash_api_key(key)
        if key_hash in self._revoked:
            raise Unauthorized("Helicone API key is not valid")
        entry = self._known.get(key_hash)
        if entry is not None:
            if now - entry[1] > self._ttl and key_hash not in self._refreshing:
                self._refresh_later(key_hash)
            else:
                self._remember(key, entry[0], entry[1])
            return entry[0]
        if now - self._missing.get(key_hash, -1e9) < _NEGATIVE_TTL_SECONDS:
            raise Unauthorized("Helicone API key is not valid")
        try:
            found = await self._lookup(key_hash)
            self.outage.up()
        except Exception as exc:
            self.outage.down("an API key lookup", exc)
            raise ServiceUnavailable(
                "the key store is unavailable, so this key cannot be verified; retry shortly"
            ) from exc
        if found is None:
            self._missing[key_hash] = now
            raise Unauthorized("Helicone API key is not valid")
        self._known[key_hash] = (found, now)
        self._remember(key, found, now)
        return found

    def _remember(self, key: str, api_key: ApiKey, since: float) -> None:
        if len(self._by_key) > _BOUND:
            self._by_key.clear()
        self._by_key[key] = (api_key, since)

    def invalidate(self, key_hash: str | None = None, *, revoked: bool = False) -> None:
        """Forget one key (created, renamed or ``revoked``); tell the other workers.

        Only that key: every other cached key keeps working, also through an outage that
        follows (emptying the cache made every key answer 503 in one). Without ``key_hash``
        (keys bound to a deleted provider key), every cached key is re-checked instead.
        """
        if key_hash is None:
            self.forget()
        else:
            self._known.pop(key_hash, None)
            self._missing.pop(key_hash, None)
            if revoked:
                self._revoke(key_hash)
            # Clear keys map to hashes only through hashing: re-learnt from ``_known`` on the
            # next call of each key, without a round trip to the store.
            self._by_key.clear()
        if self.on_change is not None:
            self.on_change()

    def forget(self) -> None:
        """Another worker changed some key: re-check the cached ones, keeping them meanwhile.

        Calls wait for the re-check (one query); if the store cannot answer it, the cached keys
        stay valid, as they do when their TTL's re-check fails.
        """
        self._missing.clear()
        self._by_key.clear()
        if not self._known:
            return
        if self._rechecking is not None and not self._rechecking.done():
            self._recheck_again = True  # its query may have read the store before this change
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a CLI command): nothing is served from this cache
            self._known.clear()
            return
        self._rechecking = loop.create_task(self._recheck())

    async def _recheck(self) -> None:
        again = True
        while again:
            self._recheck_again = False
            hashes = list(self._known)
            try:
                found = await self._lookup_many(hashes)
                self.outage.up()
            except Exception as exc:  # the store is down: keep serving the cached keys
                self.outage.down("an API key re-check (cached keys stay valid)", exc)
                return
            now = time.monotonic()
            for key_hash in hashes:
                live = found.get(key_hash)
                if live is None:
                    self._known.pop(key_hash, None)
                    self._revoke(key_hash)
                else:
                    self._known[key_hash] = (live, now)
            self._by_key.clear()
            again = self._recheck_again

    def _revoke(self, key_hash: str) -> None:
        if len(self._revoked) > _BOUND:
            self._revoked.clear()
        self._revoked.add(key_hash)

    async def _one_by_one(self, hashes: list[str]) -> dict[str, ApiKey]:
        found = await asyncio.gather(*(self._lookup(key_hash) for key_hash in hashes))
        return {h: key for h, key in zip(hashes, found, strict=True) if key is not None}

    def _refresh_later(self, key_hash: str) -> None:
        self._refreshing.add(key_hash)
        task = asyncio.get_running_loop().create_task(self._refresh(key_hash))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _refresh(self, key_hash: str) -> None:
        try:
            found = await self._lookup(key_hash)
            self.outage.up()
            self._by_key.clear()  # re-learnt from `_known` on the next call of each key
            if found is None:
                self._known.pop(key_hash, None)
                self._revoke(key_hash)
            else:
                self._known[key_hash] = (found, time.monotonic())
        except Exception as exc:  # the store is down: keep serving the cached key
            self.outage.down("an API key re-check (cached keys stay valid)", exc)
        finally:
            self._refreshing.discard(key_hash)
