"""The client's request as the gateway reads it: one pass over the headers, then the body."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from helioscope.errors import BadRequest
from helioscope.gateway.controls import CONTROL_PREFIXES_RAW
from helioscope.gateway.upstream import FRAMING, ParsedHeader

# Never forwarded upstream: connection-level headers, those the HTTP client sets itself (the
# framing ones, which a ParsedHeader never is), and the credentials meant for this proxy.
DROP_REQUEST = frozenset(name.encode() for name in FRAMING) | {b"proxy-authorization"}


@dataclass(slots=True)
class Incoming:
    """The parts of the client's request the gateway needs, read in one pass over the headers."""

    forward: list[ParsedHeader]  # as parsed: forwarded as they are, neither decoded nor checked
    helicone: list[tuple[str, str]]
    helicone_auth: str | None = None
    # As parsed: forwarded as it is, unless the Helicone key is taken out of it.
    authorization: ParsedHeader | None = None
    x_api_key: str | None = None  # Anthropic's SDK sends its key here
    target_url: str | None = None
    has_controls: bool = False  # a gateway-control header is present (cache, rate limit, ...)
    country: str | None = None  # the client's country (``country_code``), when asked for

    def authorization_text(self) -> str | None:
        """The ``Authorization`` header's value, decoded; None without one."""
        return None if self.authorization is None else self.authorization[1].decode("latin-1")


# The headers read_headers notes by name, whatever else it does with them; a gateway that
# records the client's country adds its country header (``noted``).
_NOTED = frozenset({b"x-api-key", b"cf-ipcountry"})


def noted(country_header: bytes) -> frozenset[bytes]:
    """What ``read_headers`` notes when the client's country comes from ``country_header``."""
    return _NOTED | {country_header}


def read_headers(
    raw: list[ParsedHeader], country_header: bytes = b"", noting: frozenset[bytes] = _NOTED
) -> Incoming:
    """Split the client's headers into Helicone's, the credentials, and those to forward.

    ``raw`` are the request's headers as the server's parser read them (the ASGI scope's:
    see ``ParsedHeader``); those forwarded are kept as they are, in bytes.

    With ``country_header`` (and ``noting``, from ``noted``), the client's country is read in
    the same pass: one loop over the headers, not two.
    """
    incoming = Incoming([], [])  # (positional: a class called with keywords builds a dict)
    seen: dict[bytes, bytes] = {}
    for pair in raw:
        name, value = pair
        if name in noting:
            seen[name] = value  # the last of each name, as a dict of them keeps it
        # (A slice compared, not startswith: that parses its arguments, ~400 instructions a
        # header on CPython 3.11 against ~150.)
        if name[:9] == b"helicone-":
            text = (name.decode("latin-1"), value.decode("latin-1"))
            incoming.helicone.append(text)
            if name == b"helicone-auth":
                incoming.helicone_auth = text[1]
            elif name == b"helicone-target-url":
                incoming.target_url = text[1]
            elif name.startswith(CONTROL_PREFIXES_RAW):
                incoming.has_controls = True
        elif name == b"authorization":
            incoming.authorization = pair
        elif name not in DROP_REQUEST:
            incoming.forward.append(pair)
    if seen:  # (most calls carry none of them)
        _read_noted(incoming, seen, country_header)
    return incoming


def _read_noted(incoming: Incoming, seen: dict[bytes, bytes], country_header: bytes) -> None:
    key = seen.get(b"x-api-key")
    if key is not None:
        incoming.x_api_key = key.decode("latin-1")
    if country_header:
        incoming.country = _country(seen.get(country_header, b""), seen.get(b"cf-ipcountry", b""))


def country_code(raw: list[tuple[bytes, bytes]], header: bytes) -> str | None:
    """The client's country from ``header`` (a proxy in front sets it), else ``CF-IPCountry``.

    A two-character code (ISO 3166-1 alpha-2, or Cloudflare's ``XX`` and ``T1``), upper-cased;
    anything else is not a country code and is not recorded.
    """
    chosen = fallback = b""  # the last of each name, as a dict of them kept it
    for name, value in raw:
        if name == header:
            chosen = value
        elif name == b"cf-ipcountry":
            fallback = value
    return _country(chosen, fallback)


def _country(chosen: bytes, fallback: bytes) -> str | None:
    code = chosen.decode("latin-1").strip() or fallback.decode("latin-1").strip()
    if len(code) != 2 or not code.isascii() or not code.isalnum():
        return None
    return code.upper()


def target_origin(target_url: str | None) -> str:
    """The upstream of a ``/gateway`` call: its ``Helicone-Target-URL``, validated."""
    if not target_url:
        raise BadRequest("Helicone-Target-URL header is required on the /gateway route")
    parts = urlsplit(target_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequest(f"Helicone-Target-URL must be an http(s) origin, got {target_url!r}")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def inject_stream_usage(body: bytes) -> tuple[bytes, Any]:
    """Add ``stream_options.include_usage`` to a streaming JSON body (Helicone-Stream-Usage)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body, None
    if isinstance(data, dict) and data.get("stream") is True:
        options = data.get("stream_options")
        data["stream_options"] = {
            **(options if isinstance(options, dict) else {}),
            "include_usage": True,
        }
        return orjson.dumps(data), data
    return body, data
