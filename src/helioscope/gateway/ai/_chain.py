"""Entries of a model chain that cannot serve a call, and the refusal when none can.

Helicone tries a chain's entries in order and passes over one it cannot use for this call:
its provider has no key in the organization's vault (or one this server cannot decrypt, or
no address), or its provider's format cannot express the body (audio input to Anthropic, a
body passed through unchanged to a provider that speaks another format). The call is refused
only when no entry is left, with a 4xx naming every entry and why it was passed over; a
model string of one such entry keeps that entry's own error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from helioscope.errors import BadRequest, HelioscopeError, ServiceUnavailable


@dataclass(frozen=True, slots=True)
class Skipped:
    """An entry (or one provider of a bare model's entry) passed over, and why."""

    position: int  # of the entry in the chain: the refusal names them in the chain's order
    entry: str  # as the model string wrote it
    provider: str | None  # the provider it resolved to, when it got that far
    error: HelioscopeError

    @property
    def name(self) -> str:
        """The entry as the refusal names it (with its provider when the entry did not)."""
        if self.provider is None or self.entry.endswith(f"/{self.provider}"):
            return self.entry
        return f"{self.entry} ({self.provider})"


def refusal(model_string: object, skipped: Sequence[Skipped]) -> HelioscopeError:
    """The error of a call none of whose entries can be used."""
    if len(skipped) == 1:  # one entry (one provider): its own error, as before chains skipped
        return skipped[0].error
    ordered = sorted(skipped, key=lambda s: s.position)
    reasons = "; ".join(f"[{n}] {s.name}: {s.error.message}" for n, s in enumerate(ordered, 1))
    message = f"model {model_string!r}: no entry of the chain can be used. {reasons}"
    # A 503 only when every entry failed for the server's own reason (a key it cannot decrypt):
    # anything else is the caller's or its organization's to fix.
    if all(isinstance(s.error, ServiceUnavailable) for s in skipped):
        return ServiceUnavailable(message)
    return BadRequest(message)
