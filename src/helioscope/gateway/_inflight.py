"""Caps on the gateway calls in flight: per organization, and in all.

Each call in flight holds an upstream connection (a descriptor) for as long as the upstream
takes, up to ``HELIOSCOPE_UPSTREAM_TIMEOUT_SECONDS``. Without a cap, one tenant sending calls to
an upstream that never answers used every descriptor of the process, and every other client,
the REST API and the health check with it, got "Too many open files" (issue 16). The
per-organization cap answers that tenant with Helicone's 429; the total cap keeps descriptors
for everyone else and answers 503 when the gateway is full.
"""

from __future__ import annotations

import resource

# Descriptors kept out of the gateway's reach: the API's and the UI's connections, the store,
# the journal, the health check.
_RESERVED_DESCRIPTORS = 256
# Each call holds two: the client's connection and the upstream's.
_DESCRIPTORS_PER_CALL = 2


def total_cap(configured: int | None) -> int:
    """The total cap: as configured, or what the process's descriptor limit leaves room for."""
    if configured is not None:
        return configured
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 20
    return max(16, (soft - _RESERVED_DESCRIPTORS) // _DESCRIPTORS_PER_CALL)


class InflightCaps:
    """Counts the calls in flight, in all and per organization, and refuses those past a cap."""

    __slots__ = ("_by_org", "per_org", "total", "in_flight")

    def __init__(self, *, per_org: int, total: int) -> None:
        self.per_org = per_org
        self.total = total
        self.in_flight = 0
        self._by_org: dict[str, int] = {}

    def admit(self, org_id: str) -> int:
        """Take a place for a call of ``org_id``: 0 when admitted, else the refusing status.

        429: the organization is at its cap; 503: the gateway is. ``leave`` undoes a 0.
        """
        if self.in_flight >= self.total:
            return 503
        held = self._by_org.get(org_id, 0)
        if held >= self.per_org:
            return 429
        self._by_org[org_id] = held + 1
        self.in_flight += 1
        return 0

    def leave(self, org_id: str) -> None:
        """Give back the place an admitted call of ``org_id`` took."""
        self.in_flight -= 1
        held = self._by_org[org_id] - 1
        if held:
            self._by_org[org_id] = held
        else:
            del self._by_org[org_id]

    def refusal(self, status: int) -> str:
        """The message of a refusal."""
        if status == 429:
            return (
                f"Too many calls in flight for this organization (at most {self.per_org} at "
                "once, HELIOSCOPE_MAX_INFLIGHT_PER_ORG). Please wait for some to finish."
            )
        return (
            f"The gateway is at its limit of {self.total} calls in flight "
            "(HELIOSCOPE_MAX_INFLIGHT_CALLS); retry later."
        )
