"""Signed, expiring links to a logged request's bodies: Helicone's ``signed_body_url``.

Helicone keeps each request's bodies in S3 as ``{"request": …, "response": …}`` and its API
answers a pre-signed URL to them. Helioscope serves the same document itself, at
``/v1/public/request-body/{token}``: the token names the organization, the request and an
expiry, and carries an HMAC-SHA256 of them, so the link needs no API key, cannot be altered to
reach another request, and stops working at its expiry.

The HMAC key is derived from ``HELIOSCOPE_SECRET_KEY``, so every replica accepts every other's
links. Without that setting a random key is drawn at start: links then work on the process that
made them, until it restarts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import orjson

from helioscope.errors import Forbidden, NotFound

PATH = "/v1/public/request-body/"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class BodyLinks:
    """Makes and checks body-link tokens."""

    def __init__(self, secret: str | None, seconds: int) -> None:
        seed = secret.encode() if secret is not None else secrets.token_bytes(32)
        # A key of its own: a body link must never be usable as anything the secret protects.
        self._key = hashlib.sha256(b"helioscope signed body url\0" + seed).digest()
        self.seconds = seconds

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def token(self, organization_id: str, request_id: str, now: float | None = None) -> str:
        """A token for one request's bodies, valid for ``seconds`` from ``now``."""
        expires = int((time.time() if now is None else now) + self.seconds)
        payload = orjson.dumps([organization_id, request_id, expires])
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def path(self, organization_id: str, request_id: str) -> str:
        """The link's path (the API prefixes the server's base URL)."""
        return PATH + self.token(organization_id, request_id)

    def open(self, token: str, now: float | None = None) -> tuple[str, str]:
        """The (organization, request) a token names.

        ``NotFound`` when it was not made here or was altered, ``Forbidden`` once it expired.
        """
        try:
            encoded, mac = token.split(".", 1)
            payload = _unb64(encoded)
            genuine = hmac.compare_digest(_unb64(mac), self._mac(payload))
            org, request_id, expires = orjson.loads(payload) if genuine else (None, None, 0)
        except (ValueError, TypeError, orjson.JSONDecodeError):
            genuine = False
        if not genuine or not isinstance(org, str) or not isinstance(request_id, str):
            raise NotFound("this body link is not valid")
        if not isinstance(expires, int) or expires < (time.time() if now is None else now):
            raise Forbidden("this body link has expired; query the request again for a new one")
        return org, request_id
