"""Where Helioscope connects on a caller's word: never to a private address or to itself.

A caller names where the gateway connects (``Helicone-Target-URL``, ``Helicone-Fallbacks``)
and where webhooks go. Left open, a write key read any service on the server's network, the
server's own ``/openapi.json`` and the cloud metadata address included (issue 16). The policy:
a destination whose address is loopback, link-local (169.254.169.254), private, shared,
multicast, unspecified or reserved, or that is this server itself, is refused, unless its origin
was configured by the operator: a provider base URL, the AI Gateway's catalog and an
organization's own provider addresses, ``HELIOSCOPE_SELF_URL``, or
``HELIOSCOPE_ALLOWED_PRIVATE_TARGETS`` (say ``http://localhost:11434`` for Ollama).

The check is made on the addresses a name resolves to, when connecting, and the connection
goes to the address that was checked (TLS still verifies the name): a name cannot resolve to a
public address for the check and to a private one for the connection (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

from helioscope.errors import Forbidden

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# A resolved address to connect to: (family, proto, ip, port).
AddrInfo = tuple[int, int, str, int]


class RefusedTarget(Forbidden):
    """A destination the egress policy refuses; the message names the address and why."""


def origin_key(url: str) -> tuple[str, int | None] | None:
    """``(host, port)`` of a URL or origin (port None: ``*``, any); None when it has no host."""
    scheme, _, rest = url.strip().partition("://")
    wildcard = rest.split("/", 1)[0].endswith(":*")
    parts = urlsplit(url.strip().replace(":*", "", 1) if wildcard else url.strip())
    if not parts.hostname:
        return None
    if wildcard:
        return parts.hostname.lower(), None
    try:
        port = parts.port
    except ValueError:
        return None
    if port is None:
        port = 443 if scheme.lower() == "https" else 80
    return parts.hostname.lower(), port


def _why_private(address: Address) -> str | None:
    """Why ``address`` is not a public destination, or None when it is one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for reason, flag in (
        ("a loopback", address.is_loopback),
        ("a link-local", address.is_link_local),
        ("a multicast", address.is_multicast),
        ("an unspecified", address.is_unspecified),
        ("a private", address.is_private),
        ("a reserved", address.is_reserved),
    ):
        if flag:
            return f"{reason} address"
    if not address.is_global:
        return "a non-public address"
    return None


@lru_cache(maxsize=256)
def _is_local(address: str) -> bool:
    """True when ``address`` is one of this machine's own (binding to it succeeds)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((address, 0))
    except OSError:
        return False
    return True


class EgressPolicy:
    """The operator's allowed origins, and the check of every other destination's addresses."""

    def __init__(self, allowed: Iterable[str] = (), *, server_port: int | None = None) -> None:
        self._allowed: set[tuple[str, int | None]] = set()
        self.server_port = server_port
        for url in allowed:
            self.allow(url)

    def allow(self, url: str) -> None:
        """Allow ``url``'s origin whatever its addresses (configured by the operator)."""
        key = origin_key(url)
        if key is not None:
            self._allowed.add(key)

    def allows_origin(self, host: str, port: int) -> bool:
        """True when ``host:port`` is an origin the operator configured."""
        host = host.lower().strip("[]")
        return (host, port) in self._allowed or (host, None) in self._allowed

    def refusal(self, host: str, port: int, address: str) -> str | None:
        """Why connecting to ``address`` (``host`` resolved) is refused, or None."""
        try:
            parsed = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return f"{address} is not an IP address"
        why = None
        if port == self.server_port and _is_local(str(parsed)):
            why = "this server itself"  # on any of its addresses, public ones included
        why = why or _why_private(parsed)
        if why is None:
            return None
        named = host if host == address else f"{host} ({address})"
        return (
            f"refused to connect to {named} port {port}: {why}. Helioscope only connects to "
            "public addresses, unless the origin is a configured provider or is listed in "
            "HELIOSCOPE_ALLOWED_PRIVATE_TARGETS"
        )

    async def resolve(self, host: str, port: int) -> list[AddrInfo]:
        """The addresses to connect to for ``host:port``: all that pass the policy.

        Raises ``RefusedTarget`` naming the address when none does, and ``OSError`` when the
        name does not resolve.
        """
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
        resolved: list[AddrInfo] = [
            (int(info[0]), info[2], str(info[4][0]), int(info[4][1])) for info in infos
        ]
        if self.allows_origin(host, port):
            return resolved
        kept: list[AddrInfo] = []
        refusals: list[str] = []
        for info in resolved:
            refusal = self.refusal(host, port, info[2])
            if refusal is None:
                kept.append(info)
            else:
                refusals.append(refusal)
        if refusals:  # a name with one private address is refused whole: no partial trust
            raise RefusedTarget(refusals[0])
        return kept

    async def check_url(self, url: str) -> None:
        """Refuse ``url`` (``RefusedTarget``) when it resolves to an address the policy refuses.

        ``OSError`` when its name does not resolve (which may pass: it is checked again when
        connecting).
        """
        key = origin_key(url)
        if key is None or key[1] is None:
            raise RefusedTarget(f"not a URL with a host: {url!r:.100}")
        await self.resolve(key[0], key[1])


class PolicyResolver(AbstractResolver):
    """An aiohttp resolver that only hands out addresses the egress policy allows.

    aiohttp connects to the address its resolver returns (with the name for TLS and ``Host``),
    so the address checked is the address connected to. (aiohttp skips resolvers for IP
    literals: callers check those with ``EgressPolicy.check_url`` first.)
    """

    def __init__(self, policy: EgressPolicy) -> None:
        self.policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The allowed addresses of ``host``; ``RefusedTarget`` when there are none."""
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=address_port,
                family=address_family,
                proto=proto,
                flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
            )
            for address_family, proto, address, address_port in await self.policy.resolve(
                host, port
            )
        ]

    async def close(self) -> None:
        """Nothing to release."""
