"""The vault: provider keys encrypted at rest, and what the gateway needs of them in memory.

Keys are sealed with AES-256-GCM (``cryptography``) under a key derived with HKDF-SHA256 from
``HELIOSCOPE_SECRET_KEY``; each ciphertext is bound to its organization and key id (associated
data), so a row copied into another organization or another key's place does not decrypt.
Without the secret the vault refuses to store keys and says so. Clear keys exist only in this
process's memory, on their way upstream or to an all-scopes API caller; they are never logged.

The gateway reads an organization's keys from a cache loaded on its first call and refreshed
in the background, so a warm gateway makes no database round trip for them. A call that finds
its key missing there reads them again (``reread``): another worker of ``serve --workers`` may
have just added it, and this one hears of it only at its next poll of the change counter.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from helioscope.errors import BadRequest, NotFound, ServiceUnavailable
from helioscope.providers.catalog import PROVIDER_IDS, canonical_name, find_provider
from helioscope.store import KeyChange, Store, StoredProviderKey, provider_keys

logger = logging.getLogger("helioscope.vault")

_VERSION = b"\x01"
_NO_SECRET = (
    "provider keys cannot be stored: this server has no HELIOSCOPE_SECRET_KEY to encrypt them "
    "with; set it (for example to the output of `openssl rand -base64 32`) and restart"
)
PROXY_KEY_PREFIX = "sk-helicone-proxy-"
# How often calls that find no key for them may have an organization's keys read again: a
# client calling a provider the organization has no key for has them read once a second.
_REREAD_SECONDS = 1.0


class Cipher:
    """AES-256-GCM under a key derived from the server secret."""

    def __init__(self, secret: str) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"helioscope provider keys v1"
        ).derive(secret.encode())
        self._aead = AESGCM(derived)

    def seal(self, clear: str, org_id: str, key_id: str) -> bytes:
        """The ciphertext of ``clear``, bound to its organization and key id."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, clear.encode(), f"{org_id}:{key_id}".encode())
        return _VERSION + nonce + sealed

    def open(self, sealed: bytes, org_id: str, key_id: str) -> str | None:
        """The clear key, or None when it does not decrypt (another secret, a moved row)."""
        if sealed[:1] != _VERSION:
            return None
        try:
            clear = self._aead.decrypt(sealed[1:13], sealed[13:], f"{org_id}:{key_id}".encode())
        except InvalidTag:
            return None
        return clear.decode()


@dataclass(frozen=True, slots=True)
class Credential:
    """A provider key ready for use: ``key`` is None when it cannot be decrypted."""

    id: str
    provider: str  # the catalog's id (or the organization's own provider name)
    name: str
    key: str | None
    config: dict[str, str]
    active: bool


@dataclass(slots=True)
class OrgKeys:
    """An organization's provider keys as the gateway uses them."""

    by_id: dict[str, Credential] = field(default_factory=dict)
    by_provider: dict[str, Credential] = field(default_factory=dict)  # the newest active one
    bindings: dict[int, str] = field(default_factory=dict)  # proxy key's API key id -> key id
    loaded: float = 0.0


def check_provider(name: str, config: dict[str, str]) -> str:
    """The canonical provider name; ``BadRequest`` for a provider the gateway cannot reach."""
    canonical = canonical_name(name)
    if not canonical:
        raise BadRequest("provider must not be empty")
    if find_provider(canonical) is None and not config.get("baseUrl"):
        raise BadRequest(
            f"unknown provider {name!r} (known: {PROVIDER_IDS}); an OpenAI-compatible "
            "provider of your own needs config.baseUrl"
        )
    return canonical


class Vault:
    """Provider keys of every organization, sealed in the store and cached for the gateway."""

    def __init__(self, store: Store, secret: str | None, *, ttl: float = 30.0) -> None:
        self.store = store
        self._cipher = Cipher(secret) if secret else None
        self._ttl = ttl
        self.on_change: Callable[[], None] | None = None  # tells the other workers
        self._orgs: dict[str, OrgKeys] = {}
        # (organization, what a call missed) -> when its keys were read again for it, the read.
        self._rereads: dict[tuple[str, str], tuple[float, asyncio.Task[OrgKeys]]] = {}
        self._refreshing: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def _sealer(self) -> Cipher:
        if self._cipher is None:
            raise ServiceUnavailable(_NO_SECRET)
        return self._cipher

    def clear_key(self, stored: StoredProviderKey) -> str | None:
        """The clear key of a stored one, or None when it cannot be decrypted."""
        if self._cipher is None:
            return None
        return self._cipher.open(stored.encrypted_key, stored.organization_id, stored.id)

    async def add(
        self, org_id: str, provider: str, name: str, key: str, config: dict[str, str]
    ) -> str:
        """Seal and store a provider key; returns its id."""
        cipher = self._sealer()
        canonical = check_provider(provider, config)
        key_id = str(uuid.uuid4())
        sealed = cipher.seal(key, org_id, key_id)
        record = StoredProviderKey(key_id, org_id, canonical, name, sealed, dict(config))
        await self.store.org(org_id).write(provider_keys.add_key, record)
        self.invalidate(org_id)
        return key_id

    async def stored(self, org_id: str) -> list[StoredProviderKey]:
        """The organization's keys as stored (ciphertext)."""
        return await self.store.org(org_id).read(provider_keys.list_keys)

    async def get(self, org_id: str, key_id: str) -> StoredProviderKey:
        """One key as stored; ``NotFound`` for another organization's or an unknown id."""
        found = await self.store.org(org_id).read(provider_keys.get_key, key_id)
        if found is None:
            raise NotFound("Provider key not found")
        return found

    async def update(
        self,
        org_id: str,
        key_id: str,
        change: KeyChange,
        clear_key: str | None = None,
    ) -> None:
        """Change a key (``clear_key`` is sealed first); ``NotFound`` when there is none."""
        if clear_key is not None:
            sealed = self._sealer().seal(clear_key, org_id, key_id)
            change = KeyChange(change.name, sealed, change.config, change.active)
        if not await self.store.org(org_id).write(provider_keys.update_key, key_id, change):
            raise NotFound("Provider key not found")
        self.invalidate(org_id)

    async def delete(self, org_id: str, key_id: str) -> str:
        """Delete a key and revoke its proxy keys; returns its provider name."""
        provider = await self.store.org(org_id).write(provider_keys.delete_key, key_id)
        if provider is None:
            raise NotFound("Provider key not found")
        self.invalidate(org_id)
        return provider

    async def create_proxy_key(self, org_id: str, key_id: str, name: str) -> tuple[str, str]:
        """A new proxy key bound to ``key_id``: ``(proxy key id, clear proxy key)``."""
        await self.get(org_id, key_id)
        proxy_id = str(uuid.uuid4())
        alphabet = "abcdefghijklmnopqrstuvwxyz234567"
        groups = ("".join(secrets.choice(alphabet) for _ in range(7)) for _ in range(4))
        clear = f"{PROXY_KEY_PREFIX}{'-'.join(groups)}-{proxy_id}"
        await self.store.org(org_id).write(
            provider_keys.add_proxy_key, proxy_id, key_id, name, clear
        )
        self.invalidate(org_id)
        return proxy_id, clear

    def invalidate(self, org_id: str) -> None:
        """Forget an organization's cached keys (after a change here); tell other workers."""
        self._orgs.pop(org_id, None)
        if self.on_change is not None:
            self.on_change()

    def forget(self) -> None:
        """Forget every organization's cached keys (another worker changed one)."""
        self._orgs.clear()

    async def keys(self, org_id: str) -> OrgKeys:
        """The organization's usable keys, from memory when loaded (refreshed in the background)."""
        cached = self._orgs.get(org_id)
        if cached is not None:
            if time.monotonic() - cached.loaded > self._ttl and org_id not in self._refreshing:
                self._refresh_later(org_id)
            return cached
        try:
            return await self._load(org_id)
        except Exception as exc:
            logger.warning("could not read provider keys: %r", exc)
            raise ServiceUnavailable(
                "the key store is unavailable, so no provider key can be read; retry shortly"
            ) from exc

    async def reread(self, org_id: str, missing: str) -> OrgKeys | None:
        """The organization's keys read again, for a call that found ``missing`` not in them.

        A key (or a proxy key's binding) added through another worker is in the store before
        this worker's cache hears of it. ``missing`` names what the call looked for (a model
        string, a proxy key): concurrent calls for it share one read, and it is read again at
        most once every ``_REREAD_SECONDS``. None when it was read again lately, or cannot be
        read now: the cached keys answer the call.
        """
        now = time.monotonic()
        wanted = (org_id, missing)
        last = self._rereads.get(wanted)
        if last is None or (last[1].done() and now - last[0] >= _REREAD_SECONDS):
            if len(self._rereads) > 10_000:
                self._rereads.clear()
            task = asyncio.get_running_loop().create_task(self._load(org_id))
            task.add_done_callback(lambda done: done.cancelled() or done.exception())
            last = self._rereads[wanted] = (now, task)
        elif last[1].done():
            return None
        try:
            return await asyncio.shield(last[1])
        except Exception as exc:  # the store is down: the cached keys answer
            logger.warning("could not read provider keys again: %r", exc)
            return None

    async def _load(self, org_id: str) -> OrgKeys:
        org = self.store.org(org_id)
        stored = await org.read(provider_keys.list_keys)  # newest first
        keys = OrgKeys(bindings=await org.read(provider_keys.proxy_bindings))
        for row in stored:
            credential = Credential(
                row.id, row.provider_name, row.name, self.clear_key(row), row.config, row.active
            )
            keys.by_id[row.id] = credential
            if row.active and row.provider_name not in keys.by_provider:
                keys.by_provider[row.provider_name] = credential
        keys.loaded = time.monotonic()
        self._orgs[org_id] = keys
        return keys

    def _refresh_later(self, org_id: str) -> None:
        self._refreshing.add(org_id)

        async def refresh() -> None:
            try:
                await self._load(org_id)
            except Exception as exc:  # the store is down: keep serving the cached keys
                logger.warning("could not refresh provider keys, keeping them: %r", exc)
            finally:
                self._refreshing.discard(org_id)

        task = asyncio.get_running_loop().create_task(refresh())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
